/**
 * A grid as data: a base config, axes (method, r, lr, seed) and an optional matched-budget rule, expanded into cells
 * with stable variant names (`lora-r4-lr1e-3-s0`). Experiment files add named presets (smoke / quick / full) that
 * patch the spec; loading one with a preset gives a plain GridSpec.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig } from './types';
import { resolveExperiment } from './config';
import { ExperimentConfigError, S, Schema, clone, deepMerge, isPlainObject, show, validate } from './schema';
import { matchedRank } from './budget';
import { groupOf, variantName } from './naming';

/**
 * One entry of the method axis: an adapter kind, or an adapter config with an optional display label and `overrides`,
 * a partial config for this method only (full fine-tuning at its own learning rate, say). Axes apply after it.
 */
export type MethodEntry = string | ({ label?: string; kind: string; overrides?: Record<string, unknown> } & Record<string, unknown>);

export interface GridAxes {
  method?: MethodEntry[];
  /** Adapter rank / block size (for matched kinds: the reference method's r). */
  r?: number[];
  lr?: number[];
  seed?: number[];
}

/** Give `kinds` the rank whose trainable count matches `reference` (paper rule: see lib/experiments/budget.ts). */
export interface MatchBudget {
  reference: { kind: string; r: number };
  kinds: string[];
}

export interface GridSpec {
  /** Experiment name = results folder name. */
  name: string;
  description?: string;
  /** Paper claims (ids in lib/report/claims.ts) this experiment measures. */
  claims?: string[];
  /** Partial ExperimentConfig applied on top of the defaults. */
  base: Record<string, unknown>;
  axes: GridAxes;
  matchBudget?: MatchBudget | null;
}

/** A preset patches the spec: base merges deeply, each given axis replaces the file's axis. */
export interface GridPreset {
  description?: string;
  base?: Record<string, unknown>;
  axes?: GridAxes;
  matchBudget?: MatchBudget | null;
}

export interface ExperimentFile extends GridSpec {
  presets?: Record<string, GridPreset>;
}

export interface GridCell {
  variant: string;
  /** The variant without its seed: runs that differ only by seed form one group in the tables. */
  group: string;
  /** Method label (kind, or the entry's label). */
  label: string;
  config: ExperimentConfig;
}

const METHOD_ENTRY: Schema = {
  t: 'custom',
  describe: 'adapter kind or adapter config',
  check: (v) => {
    if (typeof v === 'string') return v.length > 0 ? null : 'expected a non-empty adapter kind';
    if (!isPlainObject(v)) return `expected an adapter kind or {"kind": ...}, got ${show(v)}`;
    if (typeof v.kind !== 'string') return `kind: expected string, got ${show(v.kind)}`;
    if ('overrides' in v && !isPlainObject(v.overrides)) return `overrides: expected a partial config object, got ${show(v.overrides)}`;
    if ('label' in v && (typeof v.label !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.+_]*(-[A-Za-z0-9.+_]+)*$/.test(v.label)))
      return `label: expected a short name (letters, digits, . + _ and inner -), got ${show(v.label)}`;
    return null;
  },
};
const AXES: Schema = S.obj({
  method: S.array(METHOD_ENTRY, true),
  r: S.array(S.int(1), true),
  lr: S.array(S.num({ gt: 0 }), true),
  seed: S.array(S.int(0), true),
});
const MATCH: Schema = S.nullable(S.obj({ reference: S.obj({ kind: S.str(true), r: S.int(1) }), kinds: S.array(S.str(true), true) }));
const BASE: Schema = { t: 'custom', describe: 'partial experiment config', check: (v) => (isPlainObject(v) ? null : `expected object, got ${show(v)}`) };
const PRESET: Schema = S.obj({ description: S.str(), base: BASE, axes: AXES, matchBudget: MATCH });
const FILE: Schema = S.obj({
  $comment: S.str(),
  name: { t: 'string', nonEmpty: true },
  description: S.str(),
  claims: S.array(S.str(true)),
  base: BASE,
  axes: AXES,
  matchBudget: MATCH,
  presets: { t: 'custom', describe: 'presets', check: (v) => (isPlainObject(v) ? null : `expected object of presets, got ${show(v)}`) },
});

/** Validate an experiment file's contents; errors name the key path. */
export function validateExperimentFile(v: unknown, where: string): ExperimentFile {
  try {
    validate(v, FILE, '', true);
    const f = v as ExperimentFile;
    if (typeof f.name !== 'string') throw new ExperimentConfigError('name: missing (expected string)');
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(f.name)) throw new ExperimentConfigError(`name: ${JSON.stringify(f.name)} is not a safe folder name`);
    for (const [p, body] of Object.entries(f.presets ?? {})) validate(body, PRESET, `presets.${p}`, true);
    return { ...f, base: f.base ?? {}, axes: f.axes ?? {} };
  } catch (e) {
    throw new ExperimentConfigError(`${where}: ${(e as Error).message}`);
  }
}

/** Read an experiment file (validated). */
export function readExperimentFile(file: string): ExperimentFile {
  if (!fs.existsSync(file)) throw new Error(`experiment file not found: ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return validateExperimentFile(raw, path.basename(file));
}

const EXPERIMENTS_DIR = path.resolve(__dirname, '..', '..', 'experiments');

/** Names of the experiment files under experiments/. */
export function listExperimentFiles(): string[] {
  return fs.existsSync(EXPERIMENTS_DIR) ? fs.readdirSync(EXPERIMENTS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

/** A path to an experiment file, or the name of one under experiments/ (`block-size`). */
export function findExperimentFile(nameOrPath: string): string {
  if (fs.existsSync(nameOrPath) && fs.statSync(nameOrPath).isFile()) return nameOrPath;
  const named = path.join(EXPERIMENTS_DIR, `${nameOrPath.replace(/\.json$/, '')}.json`);
  if (fs.existsSync(named)) return named;
  throw new Error(`experiment ${JSON.stringify(nameOrPath)}: neither a file nor one of experiments/*.json (${listExperimentFiles().join(', ') || 'none'})`);
}

/**
 * The grid of one preset. The results folder (= name) is the file's name for the `quick` preset and
 * `<name>-<preset>` for any other, so a full run never mixes with quick results.
 */
export function applyPreset(file: ExperimentFile, preset: string): GridSpec {
  const presets = file.presets ?? {};
  const p = presets[preset];
  if (!p) throw new ExperimentConfigError(`experiment ${JSON.stringify(file.name)}: no preset ${JSON.stringify(preset)} (has: ${Object.keys(presets).join(', ') || 'none'})`);
  return {
    name: preset === 'quick' ? file.name : `${file.name}-${preset}`,
    description: p.description ?? file.description,
    claims: file.claims,
    base: deepMerge(file.base ?? {}, p.base ?? {}),
    axes: { ...file.axes, ...(p.axes ?? {}) },
    matchBudget: p.matchBudget !== undefined ? p.matchBudget : file.matchBudget,
  };
}

function methodOf(entry: MethodEntry): { label: string; adapter: Record<string, unknown>; overrides: Record<string, unknown> } {
  if (typeof entry === 'string') return { label: entry, adapter: { kind: entry }, overrides: {} };
  const { label, overrides, ...adapter } = entry;
  return { label: label ?? entry.kind, adapter, overrides: (overrides as Record<string, unknown> | undefined) ?? {} };
}

/**
 * Expand a grid into cells, seed-major (every method at seed 0 first, so a grid stopped early is still balanced).
 * `overrides` patch the base config (before the axes). Cells that collapse to the same variant (the r axis on full
 * fine-tuning) are kept once; two different configs under one name are an error.
 */
export function expandGrid(spec: GridSpec, overrides: unknown[] = []): GridCell[] {
  try {
    return expandCells(spec, overrides);
  } catch (e) {
    throw new ExperimentConfigError(`experiment ${spec.name}: ${(e as Error).message}`);
  }
}

/** A checkpoint folder must exist before any run starts (rather than every worker failing on it). */
function checkSource(cfg: ExperimentConfig): void {
  const src = cfg.model.source;
  if (src === 'kit-base' || fs.existsSync(path.join(src, 'config.json'))) return;
  throw new ExperimentConfigError(
    `model.source: no checkpoint folder at ${JSON.stringify(src)} (expected config.json, model.safetensors, tokenizer.json and tokenizer_config.json there; or use "kit-base")`,
  );
}

function expandCells(spec: GridSpec, overrides: unknown[]): GridCell[] {
  const base = resolveExperiment(spec.base, ...overrides, { name: spec.name });
  const methods = (spec.axes.method ?? [{ kind: base.adapter.kind }]).map(methodOf);
  const rs: (number | null)[] = spec.axes.r ?? [null];
  const lrs: (number | null)[] = spec.axes.lr ?? [null];
  const seeds = spec.axes.seed ?? [base.seed];
  const match = spec.matchBudget ?? null;
  const cells = new Map<string, GridCell>();
  for (const seed of seeds) {
    for (const m of methods) {
      for (const r of rs) {
        for (const lr of lrs) {
          const layer: Record<string, unknown> = { name: spec.name, seed, adapter: clone(m.adapter) };
          if (lr !== null) layer.optimizer = { lr };
          const pre = [spec.base, ...overrides, m.overrides];
          let cfg = resolveExperiment(...pre, layer);
          checkSource(cfg);
          const hasR = 'r' in cfg.adapter;
          if (hasR && match && match.kinds.includes(cfg.adapter.kind)) {
            const ref = { ...match.reference, r: r ?? match.reference.r };
            const matched = matchedRank(cfg, ref);
            cfg = resolveExperiment(...pre, { ...layer, adapter: { ...m.adapter, r: matched } });
          } else if (hasR && r !== null) {
            cfg = resolveExperiment(...pre, { ...layer, adapter: { ...m.adapter, r } });
          }
          const variant = variantName(m.label, cfg);
          cfg.variant = variant;
          const prev = cells.get(variant);
          if (prev) {
            if (JSON.stringify(prev.config) !== JSON.stringify(cfg)) throw new ExperimentConfigError(`two different cells are both named ${variant}; give the method entries distinct labels`);
            continue;
          }
          cells.set(variant, { variant, group: groupOf(variant), label: m.label, config: cfg });
        }
      }
    }
  }
  return [...cells.values()];
}
