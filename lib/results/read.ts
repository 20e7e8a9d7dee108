/** Reading run results back from disk. Reports and resumed grids work only from these files, never from memory. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../experiments/types';

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

/** One result file, or null when it is missing or unreadable (a half-written file from a non-atomic writer). */
export function readRunResult(file: string): RunResult | null {
  if (!fs.existsSync(file)) return null;
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    checkRunResult(r, file);
    return r;
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
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      checkRunResult(r, file);
      results.push(r);
    } catch (e) {
      problems.push({ file, error: (e as Error).message });
    }
  }
  results.sort((a, b) => (a.run_info.variant < b.run_info.variant ? -1 : a.run_info.variant > b.run_info.variant ? 1 : 0));
  return { results, problems };
}
