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
 * Reading (parsePeftConfig, used for adapter folders and the conformance vectors) also takes DoRA with
 * init_lora_weights false/'gaussian', MiSS/Bone init_weights false and LoRA-GA without lora_ga_config when loading
 * saved tensors; creating such an adapter fresh is an error (the kit lacks those inits; PEFT needs lora_ga_config).
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
      // PEFT's LoraConfig rejects lora_bias with 'gaussian'; the init only sets starting values, which loading the
      // saved tensors overwrites, so such an adapter is written as init true to stay loadable.
      const init = cfg.init === 'none' ? false : cfg.init === 'gaussian' && !cfg.loraBias ? 'gaussian' : true;
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

export type PeftType = 'LORA' | 'MISS' | 'BONE';

/**
 * What a parsed config is for. 'load': the adapter's tensors come from a file (PEFT's from_pretrained), so options
 * that only set starting values are immaterial. 'create': the config drives a fresh init (get_peft_model), so init
 * options the kit does not implement are errors, and LoRA-GA needs its lora_ga_config (its init runs from a gradient).
 */
export type PeftConfigUse = 'load' | 'create';

export interface PeftParseOptions {
  /** A method hint (the conformance vectors' lora | dora | pissa | olora | loraga | miss | bone): stands in for a missing peft_type, and must agree with the config. */
  method?: string;
  /** Prefixes error messages (a file or module path). */
  where?: string;
  /** Default 'create' (strict). */
  use?: PeftConfigUse;
}

export interface ParsedPeftAdapter {
  adapter: AdapterConfig;
  /** target_modules: a suffix list, 'all-linear', or 're:<regex>' for PEFT's regex string; null when absent. */
  targets: TargetSpec | null;
  /** lora_dropout / miss_dropout (the kit's AdapterConfig carries no dropout). */
  dropout: number;
  /** The peft_type as written, or implied by the method hint (BONE is read as MiSS). */
  peftType: PeftType;
}

export interface ParsedPeftConfig extends ParsedPeftAdapter {
  targets: TargetSpec;
}

/** Parameter names that differ between PEFT tuners and the kit's params() (Bone's block is MiSS's under another name). */
export const PEFT_PARAM_ALIASES: Readonly<Record<string, string>> = { bone_block: 'miss_block' };

/** Method hints by PEFT type; the LoRA-family ones must also equal the parsed kind. */
const LORA_METHODS: string[] = ['lora', 'dora', 'pissa', 'olora', 'loraga'];
export const PEFT_METHODS: readonly string[] = [...LORA_METHODS, 'miss', 'bone'];

const LORA_GA_DIRECTIONS: LoraGaConfig['direction'][] = ['ArBr', 'A2rBr', 'ArB2r', 'random'];
const LORA_GA_SCALES: LoraGaConfig['scale'][] = ['stable', 'weight_svd', 'gd_scale', 'unit'];

type Json = Record<string, unknown>;

function err(where: string, key: string, value: unknown, want: string): AdapterConfigError {
  return new AdapterConfigError(`${where}: '${key}' ${want}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
}

function getPosInt(j: Json, key: string, where: string, fallback: number): number {
  const v = j[key] === undefined ? fallback : j[key]; // an explicit null is no integer in PEFT either
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw err(where, key, v, 'must be a positive integer');
  return v;
}

function getNumber(j: Json, key: string, where: string, fallback: number): number {
  const v = j[key] === undefined || j[key] === null ? fallback : j[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw err(where, key, v, 'must be a finite number');
  return v;
}

function getBool(j: Json, key: string, where: string, fallback: boolean): boolean {
  const v = j[key] === undefined || j[key] === null ? fallback : j[key];
  if (typeof v !== 'boolean') throw err(where, key, v, 'must be true or false');
  return v;
}

/** Keys whose non-default values change the maths or the module set in ways the kit does not model. */
function rejectUnsupported(j: Json, where: string, keys: string[]): void {
  const isEmpty = (v: unknown) =>
    v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  for (const k of keys) if (!isEmpty(j[k])) throw err(where, k, j[k], 'is not supported by the kit (only its default is)');
  if (j.bias !== undefined && j.bias !== null && j.bias !== 'none') throw err(where, 'bias', j.bias, "is not supported (only 'none': base biases stay frozen)");
}

function readTargets(t: unknown, where: string): TargetSpec {
  if (typeof t === 'string') {
    if (t === 'all-linear') return 'all-linear';
    if (t === '') throw err(where, 'target_modules', t, 'must not be empty');
    return `re:${t}`;
  }
  if (!Array.isArray(t) || t.length === 0 || !t.every((x) => typeof x === 'string' && x !== ''))
    throw err(where, 'target_modules', t, 'must be a non-empty list of module names or a regex string');
  return [...(t as string[])];
}

function readLoraGa(j: Json, where: string, use: PeftConfigUse): Pick<LoraGaConfig, 'direction' | 'scale' | 'stableGamma'> {
  // PEFT reads a saved config without lora_ga_config (loading never reruns the init); only the init from a gradient needs it.
  if ((j.lora_ga_config === undefined || j.lora_ga_config === null) && use === 'create')
    throw err(where, 'lora_ga_config', j.lora_ga_config, "must be provided when init_lora_weights='lora_ga'. Please pass lora_ga_config=LoraGAConfig(...) to LoraConfig");
  const g = j.lora_ga_config ?? {};
  if (typeof g !== 'object' || Array.isArray(g)) throw err(where, 'lora_ga_config', g, 'must be an object {direction, scale, stable_gamma}');
  const o = g as Json;
  const direction = o.direction ?? 'ArB2r';
  const scale = o.scale ?? 'stable';
  if (!LORA_GA_DIRECTIONS.includes(direction as LoraGaConfig['direction'])) throw err(where, 'lora_ga_config.direction', direction, `must be one of ${LORA_GA_DIRECTIONS.join(', ')}`);
  if (!LORA_GA_SCALES.includes(scale as LoraGaConfig['scale'])) throw err(where, 'lora_ga_config.scale', scale, `must be one of ${LORA_GA_SCALES.join(', ')}`);
  const stableGamma = getNumber(o, 'stable_gamma', `${where} lora_ga_config`, 16);
  return { direction: direction as LoraGaConfig['direction'], scale: scale as LoraGaConfig['scale'], stableGamma };
}

/** LoraConfig (PEFT defaults r=8, lora_alpha=8, init_lora_weights=true), with LoraConfig.__post_init__'s lora_bias checks. */
function parseLora(j: Json, where: string, use: PeftConfigUse): AdapterConfig {
  rejectUnsupported(j, where, [
    'rank_pattern', 'alpha_pattern', 'fan_in_fan_out', 'layers_to_transform', 'layers_pattern', 'exclude_modules', 'modules_to_save',
    'use_qalora', 'layer_replication', 'target_parameters', 'alora_invocation_tokens', 'trainable_token_indices', 'megatron_config',
    // LoRA variants the kit does not implement (null unless enabled)
    'use_bdlora', 'arrow_config', 'kasa_config', 'monteclora_config', 'velora_config',
  ]);
  const r = getPosInt(j, 'r', where, 8);
  const alpha = getNumber(j, 'lora_alpha', where, 8);
  const rslora = getBool(j, 'use_rslora', where, false);
  const dora = getBool(j, 'use_dora', where, false);
  const loraBias = getBool(j, 'lora_bias', where, false);
  const raw = j.init_lora_weights ?? true;
  if (typeof raw !== 'boolean' && typeof raw !== 'string') throw err(where, 'init_lora_weights', raw, "must be true, false or a string ('gaussian', 'pissa', 'pissa_niter_K', 'olora', 'lora_ga')");
  const init = typeof raw === 'string' && raw.toLowerCase() === 'gaussian' ? 'gaussian' : raw; // PEFT compares these two case-insensitively
  if (loraBias && typeof init !== 'boolean') throw err(where, 'lora_bias', loraBias, `is only supported with init_lora_weights true or false (PEFT rejects it with init_lora_weights=${JSON.stringify(init)})`);
  const common = { r, alpha, rslora };
  if (dora) {
    if (loraBias) throw err(where, 'lora_bias', loraBias, 'is not supported with use_dora (PEFT rejects it: please pass use_dora=false)');
    // false / 'gaussian' only change the starting A and B, which loaded tensors overwrite; the kit's DoRA creates only PEFT's default init.
    if (init !== true && (use === 'create' || (init !== false && init !== 'gaussian')))
      throw err(where, 'init_lora_weights', init, use === 'create'
        ? "must be true with use_dora when creating an adapter (the kit's DoRA starts from PEFT's default init, kaiming A and zero B; false and 'gaussian' are read only when loading saved tensors)"
        : "must be true, false or 'gaussian' with use_dora (the kit has no DoRA variant of PiSSA/OLoRA/LoRA-GA)");
    return { kind: 'dora', ...common };
  }
  if (typeof init === 'boolean' || init === 'gaussian') return { kind: 'lora', ...common, init: init === true ? 'kaiming' : init === false ? 'none' : 'gaussian', loraBias };
  if (init === 'pissa') return { kind: 'pissa', ...common, niter: null };
  if (init.startsWith('pissa')) {
    const m = /^pissa_niter_(\d+)$/.exec(init);
    if (!m) throw err(where, 'init_lora_weights', init, "must be 'pissa' or 'pissa_niter_[number of iters]'");
    return { kind: 'pissa', ...common, niter: Number(m[1]) };
  }
  if (init.toLowerCase() === 'olora') return { kind: 'olora', ...common };
  if (init === 'lora_ga') return { kind: 'loraga', ...common, ...readLoraGa(j, where, use) };
  throw err(where, 'init_lora_weights', init, "is not supported (kit: true, false, 'gaussian', 'pissa', 'pissa_niter_K', 'olora', 'lora_ga')");
}

/** MissConfig (defaults r=64, init_weights=true, mini_r=1), or the removed BoneConfig (r=64, no mini). */
function parseMiss(j: Json, where: string, legacyBone: boolean, use: PeftConfigUse): AdapterConfig {
  rejectUnsupported(j, where, ['layers_to_transform', 'layers_pattern', 'exclude_modules', 'modules_to_save']);
  const r = getPosInt(j, 'r', where, 64);
  const init = j.init_weights ?? true;
  if (init === true) return { kind: 'bone', r };
  // false: balance maths from a kaiming-uniform [r, out] block, U(±1/sqrt(out)); the kit's Bone always starts at zero.
  if (init === false) {
    if (use === 'create')
      throw err(where, 'init_weights', init, "must be true, 'bat' or 'mini' when creating an adapter (false is PEFT's random kaiming-uniform start of the [r, out] block, which the kit's bone init does not implement; it is read only when loading saved tensors)");
    return { kind: 'bone', r };
  }
  if (init === 'bat') return { kind: 'bat', r, convention: 'out-block' };
  if (init === 'mini' && !legacyBone) return { kind: 'mini', r, miniR: getPosInt(j, 'mini_r', where, 1) };
  throw err(where, 'init_weights', init, legacyBone ? "must be true, false or 'bat' for BONE" : "must be true, false, 'bat' or 'mini'");
}

function peftTypeOf(j: Json, where: string, method: string | undefined): PeftType {
  let hinted: PeftType | undefined;
  if (method !== undefined) {
    if (!PEFT_METHODS.includes(method)) throw new AdapterConfigError(`${where}: unknown method '${method}' (known: ${PEFT_METHODS.join(', ')})`);
    hinted = LORA_METHODS.includes(method) ? 'LORA' : method === 'miss' ? 'MISS' : 'BONE';
  }
  const pt = j.peft_type;
  if (pt === undefined || pt === null) {
    if (!hinted) throw new AdapterConfigError(`${where}: missing required key 'peft_type' (LORA, MISS or BONE)`);
    return hinted;
  }
  if (pt !== 'LORA' && pt !== 'MISS' && pt !== 'BONE') throw err(where, 'peft_type', pt, 'is not supported (supported: LORA, MISS, BONE)');
  if (hinted && pt !== hinted) throw new AdapterConfigError(`${where}: method '${method}' does not match peft_type '${pt}'`);
  return pt;
}

/**
 * The one mapping from a PEFT config object (adapter_config.json contents, or a conformance vector's config) to the
 * kit's AdapterConfig. Accepts LORA (incl. DoRA, PiSSA, OLoRA, LoRA-GA), MISS and the removed BONE (read as MiSS:
 * balance and bat are bit-identical). Missing keys take PEFT's defaults (r: 8 for LoRA, 64 for MiSS/Bone); unknown
 * keys are ignored; target_modules is optional here. Wrong types, unknown peft_type and options the kit cannot
 * honour are AdapterConfigErrors naming the key and the value. Shape-dependent checks happen in validateAdapterConfig.
 */
export function parsePeftConfig(json: unknown, opts: PeftParseOptions = {}): ParsedPeftAdapter {
  const where = opts.where ?? 'peft config';
  const use = opts.use ?? 'create';
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new AdapterConfigError(`${where}: expected a JSON object, got ${JSON.stringify(json)}`);
  const j = json as Json;
  const peftType = peftTypeOf(j, where, opts.method);
  const adapter = peftType === 'LORA' ? parseLora(j, where, use) : parseMiss(j, where, peftType === 'BONE', use);
  if (opts.method !== undefined && LORA_METHODS.includes(opts.method) && opts.method !== adapter.kind)
    throw new AdapterConfigError(`${where}: method '${opts.method}' does not match the config, which describes a '${adapter.kind}' adapter`);
  const dropoutKey = peftType === 'LORA' ? 'lora_dropout' : 'miss_dropout';
  const dropout = getNumber(j, dropoutKey, where, 0);
  if (dropout < 0 || dropout >= 1) throw err(where, dropoutKey, dropout, 'must be in [0, 1)');
  const targets = j.target_modules === undefined || j.target_modules === null ? null : readTargets(j.target_modules, where);
  return { adapter, targets, dropout, peftType };
}

/**
 * Parse an adapter folder's adapter_config.json (use 'load': its tensors overwrite any init). As parsePeftConfig,
 * with peft_type and target_modules required.
 */
export function fromPeftConfig(json: unknown, where = 'adapter_config.json'): ParsedPeftConfig {
  const parsed = parsePeftConfig(json, { where, use: 'load' });
  if (parsed.targets === null) throw new AdapterConfigError(`${where}: missing required key 'target_modules' (a list of module names or a regex string)`);
  return { ...parsed, targets: parsed.targets };
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
