/**
 * Experiments as data: CPU-scale defaults, and the one function that resolves defaults <- experiment file <- overrides
 * into a validated ExperimentConfig. The resolved object is exactly what runs and what is written into results.
 */
import type { AdapterConfig } from '../adapters/types';
import { resolveAdapterConfig } from '../adapters/registry';
import type { ExperimentConfig } from './types';
import { ExperimentConfigError, S, Schema, clone, deepMerge, isPlainObject, show, validate } from './schema';

/**
 * Defaults sized for a 2-core CPU: the kit's tiny pretrained base and its generated word-problem task.
 * The paper's recipe (cosine, no warmup, zero weight decay) is kept; the learning rate is larger because the model is
 * tiny and runs only a few hundred steps (the paper's 2e-5 is for 6k steps on a 7B model).
 */
export const DEFAULT_EXPERIMENT: ExperimentConfig = {
  name: 'default',
  variant: '',
  model: { arch: 'llama', source: 'kit-base', preset: 'tiny' },
  data: { task: 'wordproblems', path: null, trainExamples: 2000, evalExamples: 200, maxLength: 256 },
  adapter: { kind: 'bone', r: 8 },
  targets: 'all-linear',
  optimizer: { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, loraPlusRatio: null, clipNorm: 1 },
  schedule: { kind: 'cosine', warmupSteps: 0 },
  steps: 200,
  batchSize: 16,
  gradAccum: 1,
  eval: { every: 50, generateExamples: 50, maxNewTokens: 96 },
  seed: 0,
};

const TARGETS: Schema = {
  t: 'custom',
  describe: '"all-linear" or an array of module-name suffixes',
  check: (v) => {
    if (v === 'all-linear') return null;
    if (!Array.isArray(v) || v.length === 0) return `expected "all-linear" or a non-empty array of module-name suffixes, got ${show(v)}`;
    const bad = v.findIndex((x) => typeof x !== 'string' || x.length === 0);
    if (bad >= 0) return `[${bad}]: expected a non-empty string, got ${show(v[bad])}`;
    for (const x of v as string[]) {
      if (x.startsWith('re:')) {
        try {
          new RegExp(x.slice(3));
        } catch (e) {
          return `${JSON.stringify(x)} is not a valid regular expression (${(e as Error).message})`;
        }
      }
    }
    return null;
  },
};

/** Adapter fields are checked by the adapter registry; here only the shape of a layer. */
const ADAPTER: Schema = {
  t: 'custom',
  describe: 'adapter config object',
  check: (v) => {
    if (!isPlainObject(v)) return `expected an adapter config object ({"kind": ...}), got ${show(v)}`;
    if ('kind' in v && typeof v.kind !== 'string') return `kind: expected string, got ${show(v.kind)}`;
    return null;
  },
};

/** The schema of ExperimentConfig (lib/experiments/types.ts); keep the two in step. */
export const EXPERIMENT_SCHEMA: Schema = S.obj({
  name: S.str(true),
  variant: S.str(),
  model: S.obj({ arch: S.oneOf('llama', 'rwkv6'), source: S.str(true), preset: S.oneOf('tiny', 'small') }),
  data: S.obj({
    task: S.oneOf('wordproblems', 'metamath', 'gsm8k'),
    path: S.nullable(S.str(true)),
    trainExamples: S.int(1),
    evalExamples: S.int(1),
    maxLength: S.int(8),
  }),
  adapter: ADAPTER,
  targets: TARGETS,
  optimizer: S.obj({
    lr: S.num({ gt: 0 }),
    weightDecay: S.num({ min: 0 }),
    beta1: S.num({ min: 0, max: 1 }),
    beta2: S.num({ min: 0, max: 1 }),
    eps: S.num({ gt: 0 }),
    loraPlusRatio: S.nullable(S.num({ gt: 0 })),
    clipNorm: S.nullable(S.num({ gt: 0 })),
  }),
  schedule: S.obj({ kind: S.oneOf('constant', 'cosine', 'linear'), warmupSteps: S.int(0) }),
  steps: S.int(1),
  batchSize: S.int(1),
  gradAccum: S.int(1),
  eval: S.obj({ every: S.int(0), generateExamples: S.int(0), maxNewTokens: S.int(1) }),
  seed: S.int(0),
});

/** Apply one adapter layer: a new kind starts from that kind's defaults; the same (or no) kind patches the current one. */
function mergeAdapter(current: AdapterConfig, layer: Record<string, unknown>): AdapterConfig {
  const kind = (layer.kind as string | undefined) ?? current.kind;
  const start: Record<string, unknown> = kind === current.kind ? { ...current } : { kind };
  try {
    return resolveAdapterConfig({ ...start, ...layer, kind });
  } catch (e) {
    // Name the key path like every other config error: adapter.r, adapter.kind.
    const msg = (e as Error).message;
    const field = /field '(\w+)'|`(\w+)`/.exec(msg)?.slice(1).find(Boolean) ?? (/unknown kind/.test(msg) ? 'kind' : null);
    throw new ExperimentConfigError(`adapter${field ? `.${field}` : ''}: ${msg}`);
  }
}

/**
 * Resolve defaults <- layers (experiment file, grid cell, command-line overrides), left to right. Objects merge deeply;
 * `adapter` is replaced by kind (with the adapter's own defaults) rather than merged across kinds. Unknown keys and wrong
 * types are rejected naming the key path. Returns a fresh, fully validated config.
 */
export function resolveExperiment(...layers: unknown[]): ExperimentConfig {
  let cfg = clone(DEFAULT_EXPERIMENT);
  cfg.adapter = mergeAdapter(cfg.adapter, {});
  for (const layer of layers) {
    if (layer === undefined || layer === null) continue;
    validate(layer, EXPERIMENT_SCHEMA, '', true);
    const { adapter, ...rest } = layer as Record<string, unknown>;
    cfg = deepMerge(cfg, rest);
    if (adapter !== undefined) cfg.adapter = mergeAdapter(cfg.adapter, adapter as Record<string, unknown>);
  }
  validate(cfg, EXPERIMENT_SCHEMA, '', false);
  checkConsistency(cfg);
  return cfg;
}

/** Cross-field rules a per-field schema cannot express. */
function checkConsistency(cfg: ExperimentConfig): void {
  if (cfg.data.task !== 'wordproblems' && cfg.data.path === null) {
    throw new ExperimentConfigError(`data.path: task ${JSON.stringify(cfg.data.task)} reads a JSONL file, so data.path must be set (got null)`);
  }
  if (cfg.schedule.warmupSteps > cfg.steps) {
    throw new ExperimentConfigError(`schedule.warmupSteps: ${cfg.schedule.warmupSteps} exceeds steps=${cfg.steps}`);
  }
  if (cfg.optimizer.loraPlusRatio !== null && !['lora', 'pissa', 'olora', 'dora', 'loraga'].includes(cfg.adapter.kind)) {
    throw new ExperimentConfigError(`optimizer.loraPlusRatio: LoRA+ applies to LoRA-family adapters, not ${JSON.stringify(cfg.adapter.kind)}`);
  }
}

/** Parse a command-line override `key.path=value` (value parsed as JSON when it parses, else kept as a string). */
export function parseOverride(text: string): Record<string, unknown> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ExperimentConfigError(`override ${JSON.stringify(text)}: expected key.path=value`);
  const keys = text.slice(0, eq).split('.');
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a bare string such as cosine */
  }
  let out: unknown = value;
  for (let i = keys.length - 1; i >= 0; i--) out = { [keys[i]]: out };
  return out as Record<string, unknown>;
}
