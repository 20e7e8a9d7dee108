/** Reading run results back from disk. Reports and resumed grids work only from these files, never from memory. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../experiments/types';
import { readJson } from '../util/fs';

const STATUSES = ['ok', 'diverged', 'failed', 'cancelled'];

/** Throw naming the file and field when `r` is not shaped like a RunResult (the fields reports rely on). */
export function checkRunResult(r: unknown, where: string): asserts r is RunResult {
  const fail = (msg: string): never => {
    throw new Error(`${where}: not a run result: ${msg}`);
  };
  const o = r as RunResult;
  if (typeof o !== 'object' || o === null) fail('not an object');
  for (const k of ['run_info', 'train_info', 'meta_info'] as const) if (typeof o[k] !== 'object' || o[k] === null) fail(`missing ${k}`);
  const ri = o.run_info;
  if (typeof ri.experiment !== 'string' || typeof ri.variant !== 'string') fail('run_info.experiment/variant must be strings');
  if (typeof ri.config !== 'object' || ri.config === null) fail('run_info.config missing');
  const ti = o.train_info;
  if (!STATUSES.includes(ti.status)) fail(`train_info.status ${JSON.stringify(ti.status)} is not one of ${STATUSES.join(', ')}`);
  if (!Array.isArray(ti.metrics)) fail('train_info.metrics must be an array');
  if (typeof ti.num_trainable_params !== 'number') fail('train_info.num_trainable_params must be a number');
  if (ti.status === 'ok' && ti.final === null) fail('status ok but train_info.final is null');
}

/** One result file, validated; throws naming the file and the reason (missing, not JSON, not a run result). */
export function parseRunResult(file: string): RunResult {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such result file`);
  let r: unknown;
  try {
    r = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  checkRunResult(r, file);
  return r;
}

/** One result file, or null when it is missing or unreadable (a half-written file from a non-atomic writer). */
export function readRunResult(file: string): RunResult | null {
  try {
    return parseRunResult(file);
  } catch {
    return null;
  }
}

export interface ReadResults {
  results: RunResult[];
  /** Files that exist but could not be read as results, with the reason. */
  problems: { file: string; error: string }[];
}

/** Every run result under <expDir>/runs/, sorted by variant. Temporary files of in-flight atomic writes are ignored. */
export function readRunResults(expDir: string): ReadResults {
  const dir = path.join(expDir, 'runs');
  if (!fs.existsSync(dir)) return { results: [], problems: [] };
  const results: RunResult[] = [];
  const problems: { file: string; error: string }[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    const file = path.join(dir, f);
    try {
      results.push(parseRunResult(file));
    } catch (e) {
      problems.push({ file, error: (e as Error).message });
    }
  }
  results.sort((a, b) => (a.run_info.variant < b.run_info.variant ? -1 : a.run_info.variant > b.run_info.variant ? 1 : 0));
  return { results, problems };
}

export interface CurrentResults extends ReadResults {
  /** Variants with a result file that the grid's manifest no longer lists (left from an earlier spec), not returned. */
  ignored: string[];
}

/**
 * The results of the grid's current cells: those listed in <expDir>/grid.json (the manifest a grid writes), or every
 * result when there is no manifest (a folder written by single `train` runs).
 */
export function readCurrentRunResults(expDir: string): CurrentResults {
  const { results, problems } = readRunResults(expDir);
  const manifest = path.join(expDir, 'grid.json');
  if (!fs.existsSync(manifest)) return { results, problems, ignored: [] };
  const cells = readJson<{ cells?: { variant: string }[] }>(manifest).cells;
  if (!Array.isArray(cells)) throw new Error(`${manifest}: field cells must be an array of { variant }`);
  const current = new Set(cells.map((c) => c.variant));
  return {
    results: results.filter((r) => current.has(r.run_info.variant)),
    problems,
    ignored: results.filter((r) => !current.has(r.run_info.variant)).map((r) => r.run_info.variant),
  };
}
