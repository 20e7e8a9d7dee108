/**
 * The mapping between the kit's AdapterConfig and PEFT's `adapter_config.json` (LoraConfig with peft_type LORA,
 * MissConfig with peft_type MISS, and the removed BoneConfig with peft_type BONE, read as MiSS).
 * Key sets follow PEFT @5d602fdb (see ../shared/reference/peft-semantics.md sections 0.1, 1, 6, 7).
 *
 * Kit kind  -> PEFT
 *   lora      LORA, init_lora_weights true ('kaiming') | 'gaussian' | false ('none'), lora_bias
 *   pissa     LORA, init_lora_weights 'pissa' | 'pissa_niter_K'
 *   olora     LORA, init_lora_weights 'olora'
 *   dora      LORA, use_dora true
 *   loraga    LORA, init_lora_weights 'lora_ga', lora_ga_config {direction, scale, stable_gamma}
 *   bone      MISS, init_weights true
 *   mini      MISS, init_weights 'mini', mini_r
 *   bat       MISS, init_weights 'bat' (out-block only: PEFT has no in-block Bat, so export refuses it)
 */
import type { AdapterConfig, LoraGaConfig } from '../adapters/types';
import { AdapterConfigError } from '../adapters/types';
import type { TargetSpec } from '../models/targets';

/** The PEFT snapshot whose config key set is written (dev versions carry `@<commit>`, as PEFT writes them). */
export const PEFT_VERSION = '0.20.1.dev0@5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40';

export interface PeftExportOptions {
  /** base_model_name_or_path (default null). */
  baseModel?: string | null;
  /** revision of the base model (default null). */
  revision?: string | null;
  /** lora_dropout / miss_dropout (default 0). */
  dropout?: number;
  /** peft_version written to the file (default PEFT_VERSION). */
  peftVersion?: string;
}

export type PeftConfigJson = Record<string, unknown>;

function commonKeys(peftType: string, opts: PeftExportOptions): PeftConfigJson {
  return {
    auto_mapping: null,
    base_model_name_or_path: opts.baseModel ?? null,
    inference_mode: true,
    peft_type: peftType,
    peft_version: opts.peftVersion ?? PEFT_VERSION,
    revision: opts.revision ?? null,
    task_type: 'CAUSAL_LM',
  };
}

/** PEFT's target_modules: a list stays a sorted list; 'all-linear' stays; 're:<regex>' becomes PEFT's regex string. */
function targetModulesJson(targets: TargetSpec): string[] | string {
  if (targets === 'all-linear') return 'all-linear';
  if (typeof targets === 'string') {
    if (targets.startsWith('re:')) return targets.slice(3);
    return [targets];
  }
  if (!Array.isArray(targets) || targets.length === 0) throw new AdapterConfigError(`peft config: target_modules must be a non-empty list, got ${JSON.stringify(targets)}`);
  const re = targets.filter((t) => t.startsWith('re:'));
  if (re.length > 0) {
    // PEFT takes a list of names OR one regex; several patterns become one alternation.
    if (re.length !== targets.length) throw new AdapterConfigError(`peft config: cannot mix 're:' patterns and module suffixes in target_modules (got ${JSON.stringify(targets)})`);
    return re.length === 1 ? re[0].slice(3) : re.map((t) => `(?:${t.slice(3)})`).join('|');
  }
  return [...new Set(targets)].sort();
}

function loraKeys(r: number, alpha: number, rslora: boolean, init: boolean | string, opts: PeftExportOptions, extra: PeftConfigJson = {}): PeftConfigJson {
  return {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    init_lora_weights: init,
    kasa_config: null,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: alpha,
    lora_bias: false,
    lora_dropout: opts.dropout ?? 0,
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    monteclora_config: null,
    qalora_group_size: 16,
    r,
    rank_pattern: {},
    target_parameters: null,
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: rslora,
    velora_config: null,
    ...extra,
  };
}

function missKeys(r: number, init: boolean | string, miniR: number, opts: PeftExportOptions): PeftConfigJson {
  return {
    bias: 'none',
    exclude_modules: null,
    init_weights: init,
    layers_pattern: null,
    layers_to_transform: null,
    mini_r: miniR,
    miss_dropout: opts.dropout ?? 0,
    modules_to_save: null,
    r,
  };
}

/** Recursively sort object keys (PEFT writes json.dumps(sort_keys=True)). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

/** The adapter_config.json object PEFT would write for this adapter on these targets (keys sorted). */
export function toPeftConfig(cfg: AdapterConfig, targets: TargetSpec, opts: PeftExportOptions = {}): PeftConfigJson {
  const tm = { target_modules: targetModulesJson(targets) };
  let body: PeftConfigJson;
  switch (cfg.kind) {
    case 'lora': {
      const init = cfg.init === 'kaiming' ? true : cfg.init === 'gaussian' ? 'gaussian' : false;
      body = { ...commonKeys('LORA', opts), ...loraKeys(cfg.r, cfg.alpha, cfg.rslora, init, opts, { lora_bias: cfg.loraBias }) };
      break;
    }
    case 'pissa':
      body = { ...commonKeys('LORA', opts), ...loraKeys(cfg.r, cfg.alpha, cfg.rslora, cfg.niter === null ? 'pissa' : `pissa_niter_${cfg.niter}`, opts) };
      break;
    case 'olora':
      body = { ...commonKeys('LORA', opts), ...loraKeys(cfg.r, cfg.alpha, cfg.rslora, 'olora', opts) };
      break;
    case 'dora':
      body = { ...commonKeys('LORA', opts), ...loraKeys(cfg.r, cfg.alpha, cfg.rslora, true, opts, { use_dora: true }) };
      break;
    case 'loraga':
      body = {
        ...commonKeys('LORA', opts),
        ...loraKeys(cfg.r, cfg.alpha, cfg.rslora, 'lora_ga', opts, {
          lora_ga_config: { direction: cfg.direction, scale: cfg.scale, stable_gamma: cfg.stableGamma },
        }),
      };
      break;
    case 'bone':
      body = { ...commonKeys('MISS', opts), ...missKeys(cfg.r, true, 1, opts) };
      break;
    case 'mini':
      body = { ...commonKeys('MISS', opts), ...missKeys(cfg.r, 'mini', cfg.miniR, opts) };
      break;
    case 'bat':
      if (cfg.convention !== 'out-block')
        throw new AdapterConfigError(
          `peft export: bat convention '${cfg.convention}' has no PEFT equivalent (PEFT's bat shares each r x r block along an output block row, ` +
            `'out-block'; 'in-block' shares it along an input block column, and one cannot be rewritten as the other). Train with convention 'out-block' to export.`,
        );
      body = { ...commonKeys('MISS', opts), ...missKeys(cfg.r, 'bat', 1, opts) };
      break;
    case 'full':
      throw new AdapterConfigError(`peft export: kind 'full' (full fine-tuning) has no adapter_config.json; save the model weights instead`);
    default:
      throw new AdapterConfigError(`peft export: unknown adapter kind ${JSON.stringify((cfg as { kind: unknown }).kind)}`);
  }
  return sortKeys({ ...body, ...tm }) as PeftConfigJson;
}

/** Serialise as PEFT does: sorted keys, indent 2. */
export function stringifyPeftConfig(json: PeftConfigJson): string {
  return JSON.stringify(sortKeys(json), null, 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

export interface ParsedPeftConfig {
  adapter: AdapterConfig;
  /** target_modules: a suffix list, 'all-linear', or 're:<regex>' for PEFT's regex string. */
  targets: TargetSpec;
  /** lora_dropout / miss_dropout (the kit's AdapterConfig carries no dropout). */
  dropout: number;
  /** The peft_type as written (BONE is read as MiSS). */
  peftType: 'LORA' | 'MISS' | 'BONE';
}

const LORA_GA_DIRECTIONS: LoraGaConfig['direction'][] = ['ArBr', 'A2rBr', 'ArB2r', 'random'];
const LORA_GA_SCALES: LoraGaConfig['scale'][] = ['stable', 'weight_svd', 'gd_scale', 'unit'];

function err(where: string, key: string, value: unknown, want: string): AdapterConfigError {
  return new AdapterConfigError(`${where}: '${key}' ${want}, got ${JSON.stringify(value)}`);
}

function getPosInt(j: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = j[key] === undefined ? fallback : j[key];
  if (v === undefined) throw new AdapterConfigError(`${where}: missing required key '${key}' (a positive integer)`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw err(where, key, v, 'must be a positive integer');
  return v;
}

function getNumber(j: Record<string, unknown>, key: string, where: string, fallback: number): number {
  const v = j[key] === undefined || j[key] === null ? fallback : j[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw err(where, key, v, 'must be a finite number');
  return v;
}

function getBool(j: Record<string, unknown>, key: string, where: string, fallback: boolean): boolean {
  const v = j[key] === undefined || j[key] === null ? fallback : j[key];
  if (typeof v !== 'boolean') throw err(where, key, v, 'must be true or false');
  return v;
}

/** Keys whose non-default values change the maths or the module set in ways the kit does not model. */
function rejectUnsupported(j: Record<string, unknown>, where: string, keys: string[]): void {
  const isEmpty = (v: unknown) =>
    v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  for (const k of keys) if (!isEmpty(j[k])) throw err(where, k, j[k], 'is not supported by the kit (only its default is)');
  if (j.bias !== undefined && j.bias !== null && j.bias !== 'none') throw err(where, 'bias', j.bias, "is not supported (only 'none': base biases stay frozen)");
}

function readTargets(j: Record<string, unknown>, where: string): TargetSpec {
  const t = j.target_modules;
  if (t === undefined || t === null) throw new AdapterConfigError(`${where}: missing required key 'target_modules' (a list of module names or a regex string)`);
  if (typeof t === 'string') {
    if (t === 'all-linear') return 'all-linear';
    if (t === '') throw err(where, 'target_modules', t, 'must not be empty');
    return `re:${t}`;
  }
  if (!Array.isArray(t) || t.length === 0 || !t.every((x) => typeof x === 'string' && x !== ''))
    throw err(where, 'target_modules', t, 'must be a non-empty list of module names or a regex string');
  return [...(t as string[])];
}

function readLoraGa(j: Record<string, unknown>, where: string): Pick<LoraGaConfig, 'direction' | 'scale' | 'stableGamma'> {
  const g = j.lora_ga_config ?? {};
  if (typeof g !== 'object' || Array.isArray(g)) throw err(where, 'lora_ga_config', g, 'must be an object {direction, scale, stable_gamma}');
  const o = g as Record<string, unknown>;
  const direction = o.direction ?? 'ArB2r';
  const scale = o.scale ?? 'stable';
  if (!LORA_GA_DIRECTIONS.includes(direction as LoraGaConfig['direction'])) throw err(where, 'lora_ga_config.direction', direction, `must be one of ${LORA_GA_DIRECTIONS.join(', ')}`);
  if (!LORA_GA_SCALES.includes(scale as LoraGaConfig['scale'])) throw err(where, 'lora_ga_config.scale', scale, `must be one of ${LORA_GA_SCALES.join(', ')}`);
  const stableGamma = getNumber(o, 'stable_gamma', `${where} lora_ga_config`, 16);
  return { direction: direction as LoraGaConfig['direction'], scale: scale as LoraGaConfig['scale'], stableGamma };
}

function parseLora(j: Record<string, unknown>, where: string): AdapterConfig {
  rejectUnsupported(j, where, [
    'rank_pattern', 'alpha_pattern', 'fan_in_fan_out', 'layers_to_transform', 'layers_pattern', 'exclude_modules', 'modules_to_save',
    'use_qalora', 'layer_replication', 'target_parameters', 'alora_invocation_tokens', 'trainable_token_indices',
    // LoRA variants the kit does not implement (null unless enabled)
    'use_bdlora', 'arrow_config', 'kasa_config', 'monteclora_config', 'velora_config',
  ]);
  const r = getPosInt(j, 'r', where);
  const alpha = getNumber(j, 'lora_alpha', where, 8); // PEFT's default
  const rslora = getBool(j, 'use_rslora', where, false);
  const dora = getBool(j, 'use_dora', where, false);
  const loraBias = getBool(j, 'lora_bias', where, false);
  const init = j.init_lora_weights === undefined ? true : j.init_lora_weights;
  const common = { r, alpha, rslora };
  if (dora) {
    // The init only sets starting values, which a loaded file overwrites; inits that rewrite the base weight cannot be DoRA here.
    if (init !== true && init !== false && init !== 'gaussian')
      throw err(where, 'init_lora_weights', init, "must be true, false or 'gaussian' with use_dora (the kit has no DoRA variant of PiSSA/OLoRA/LoRA-GA)");
    if (loraBias) throw err(where, 'lora_bias', loraBias, 'is not supported with use_dora (PEFT rejects it too)');
    return { kind: 'dora', ...common };
  }
  if (typeof init === 'boolean' || init === 'gaussian') {
    return { kind: 'lora', ...common, init: init === true ? 'kaiming' : init === false ? 'none' : 'gaussian', loraBias };
  }
  if (typeof init !== 'string') throw err(where, 'init_lora_weights', init, "must be true, false, 'gaussian', 'pissa', 'pissa_niter_K', 'olora' or 'lora_ga'");
  if (loraBias) throw err(where, 'lora_bias', loraBias, `is only supported with init_lora_weights true or false (init_lora_weights is '${init}')`);
  if (init === 'pissa') return { kind: 'pissa', ...common, niter: null };
  if (init.startsWith('pissa_niter_')) {
    const k = init.slice('pissa_niter_'.length);
    if (!/^\d+$/.test(k)) throw err(where, 'init_lora_weights', init, "must be 'pissa' or 'pissa_niter_[number of iters]'");
    return { kind: 'pissa', ...common, niter: Number(k) };
  }
  if (init.toLowerCase() === 'olora') return { kind: 'olora', ...common };
  if (init === 'lora_ga') return { kind: 'loraga', ...common, ...readLoraGa(j, where) };
  throw err(where, 'init_lora_weights', init, "is not supported (kit: true, false, 'gaussian', 'pissa', 'pissa_niter_K', 'olora', 'lora_ga')");
}

function parseMiss(j: Record<string, unknown>, where: string, legacyBone: boolean): AdapterConfig {
  rejectUnsupported(j, where, ['layers_to_transform', 'layers_pattern', 'exclude_modules', 'modules_to_save']);
  const r = getPosInt(j, 'r', where);
  const init = j.init_weights === undefined || j.init_weights === null ? true : j.init_weights;
  // init_weights false only changes the block's initial values (kaiming instead of zeros); the maths is balance.
  if (init === true || init === false) return { kind: 'bone', r };
  if (init === 'bat') return { kind: 'bat', r, convention: 'out-block' };
  if (init === 'mini' && !legacyBone) return { kind: 'mini', r, miniR: getPosInt(j, 'mini_r', where, 1) };
  throw err(where, 'init_weights', init, legacyBone ? "must be true, false or 'bat' for BONE" : "must be true, false, 'bat' or 'mini'");
}

/**
 * Parse an adapter_config.json object. Accepts LORA (incl. DoRA, PiSSA, OLoRA, LoRA-GA), MISS, and the removed BONE
 * (read as MiSS: balance and bat are bit-identical). Unknown keys are ignored; missing r, wrong types, unknown
 * peft_type and options the kit cannot honour are errors naming the key and value.
 */
export function fromPeftConfig(json: unknown, where = 'adapter_config.json'): ParsedPeftConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new AdapterConfigError(`${where}: expected a JSON object, got ${JSON.stringify(json)}`);
  const j = json as Record<string, unknown>;
  const pt = j.peft_type;
  if (pt === undefined) throw new AdapterConfigError(`${where}: missing required key 'peft_type' (LORA, MISS or BONE)`);
  if (pt !== 'LORA' && pt !== 'MISS' && pt !== 'BONE') throw err(where, 'peft_type', pt, 'is not supported (supported: LORA, MISS, BONE)');
  const adapter = pt === 'LORA' ? parseLora(j, where) : parseMiss(j, where, pt === 'BONE');
  const dropoutKey = pt === 'LORA' ? 'lora_dropout' : 'miss_dropout';
  const dropout = getNumber(j, dropoutKey, where, 0);
  if (dropout < 0 || dropout >= 1) throw err(where, dropoutKey, dropout, 'must be in [0, 1)');
  return { adapter, targets: readTargets(j, where), dropout, peftType: pt };
}

/**
 * The config of the rank-2r plain LoRA that PEFT writes when converting a PiSSA / OLoRA / LoRA-GA adapter on save
 * (path_initial_model_for_weight_conversion): r <- 2r, alpha <- 2 alpha (sqrt(2) alpha with rsLoRA, keeping
 * alpha / sqrt(r)), init_lora_weights true.
 */
export function convertedLoraConfig(cfg: AdapterConfig): AdapterConfig {
  if (cfg.kind !== 'pissa' && cfg.kind !== 'olora' && cfg.kind !== 'loraga')
    throw new AdapterConfigError(`peft conversion: only pissa, olora and loraga adapters convert to plain LoRA on save, got kind '${cfg.kind}'`);
  return { kind: 'lora', r: 2 * cfg.r, alpha: cfg.rslora ? Math.SQRT2 * cfg.alpha : 2 * cfg.alpha, rslora: cfg.rslora, init: 'kaiming', loraBias: false };
}
