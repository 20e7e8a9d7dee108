/**
 * PEFT config keys -> AdapterConfig, for reading PEFT adapter_config.json files and the conformance vectors.
 * LORA: r, lora_alpha, use_rslora, init_lora_weights (true | 'gaussian' | false | 'pissa' | 'pissa_niter_K' | 'olora' |
 * 'lora_ga'), use_dora, lora_bias, lora_ga_config. MISS: r, init_weights (true | 'bat' | 'mini'), mini_r.
 * BONE (removed from PEFT, same maths as MiSS): r, init_weights (true | 'bat').
 * Missing keys take PEFT's defaults; keys that do not change the maths (target_modules, dropout, ...) are ignored;
 * options the kit cannot reproduce exactly are rejected with an AdapterConfigError naming the key.
 */
import { resolveAdapterConfig } from './registry';
import { AdapterConfigError, type AdapterConfig } from './types';

/** Parameter names that differ between PEFT tuners and the kit's params() (Bone's key is MiSS's under another name). */
export const PEFT_PARAM_ALIASES: Readonly<Record<string, string>> = { bone_block: 'miss_block' };

/** Method names of the conformance vectors, by PEFT type. */
const LORA_METHODS = ['lora', 'dora', 'pissa', 'olora', 'loraga'];

type Json = Record<string, unknown>;

function fail(msg: string): never {
  throw new AdapterConfigError(`peft config: ${msg}`);
}

function peftTypeOf(config: Json, method?: string): 'LORA' | 'MISS' | 'BONE' {
  const fromMethod = method === undefined ? undefined : LORA_METHODS.includes(method) ? 'LORA' : method === 'miss' ? 'MISS' : method === 'bone' ? 'BONE' : null;
  if (fromMethod === null) fail(`unknown method '${method}' (known: ${[...LORA_METHODS, 'miss', 'bone'].join(', ')})`);
  const pt = config.peft_type;
  if (pt !== undefined && pt !== 'LORA' && pt !== 'MISS' && pt !== 'BONE') fail(`unsupported peft_type ${JSON.stringify(pt)} (supported: LORA, MISS, BONE)`);
  if (pt !== undefined && fromMethod !== undefined && pt !== fromMethod) fail(`method '${method}' does not match peft_type '${String(pt)}'`);
  const t = (pt ?? fromMethod) as 'LORA' | 'MISS' | 'BONE' | undefined;
  if (!t) fail(`cannot tell the adapter type: no peft_type and no method`);
  return t;
}

function loraFromPeft(c: Json): Json {
  const base = { r: c.r ?? 8, alpha: c.lora_alpha ?? 8, rslora: c.use_rslora ?? false };
  const init = c.init_lora_weights ?? true;
  const useDora = c.use_dora ?? false;
  const loraBias = c.lora_bias ?? false;
  if (c.fan_in_fan_out === true) fail(`fan_in_fan_out=true (Conv1D layout) is not supported`);
  for (const k of ['rank_pattern', 'alpha_pattern']) {
    const v = c[k];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v as object).length > 0)) fail(`per-module ${k} is not supported (got ${JSON.stringify(v)})`);
  }
  if (loraBias === true && init !== true && init !== false) {
    fail(`The argument lora_bias=True is only supported with init_lora_weights=True or False, got init_lora_weights=${String(init)} instead.`);
  }
  if (useDora === true) {
    if (loraBias === true) fail(`The argument lora_bias=True is not supported for DoRA, please pass use_dora=False`);
    if (init !== true) fail(`use_dora=true is only supported with init_lora_weights=true here, got ${JSON.stringify(init)}`);
    return { kind: 'dora', ...base };
  }
  if (init === true || init === 'gaussian' || init === false) {
    return { kind: 'lora', ...base, init: init === true ? 'kaiming' : init === false ? 'none' : 'gaussian', loraBias };
  }
  if (typeof init !== 'string') fail(`init_lora_weights must be true, false or a string, got ${JSON.stringify(init)}`);
  if (init.startsWith('pissa')) {
    if (init === 'pissa') return { kind: 'pissa', ...base, niter: null };
    const m = /^pissa_niter_(\d+)$/.exec(init);
    if (!m) fail(`init_lora_weights should be 'pissa' or 'pissa_niter_[number of iters]', got ${init} instead.`);
    return { kind: 'pissa', ...base, niter: Number(m[1]) };
  }
  if (init.toLowerCase() === 'olora') return { kind: 'olora', ...base };
  if (init === 'lora_ga') {
    const ga = c.lora_ga_config;
    if (ga === undefined || ga === null) {
      fail(`lora_ga_config must be provided when init_lora_weights='lora_ga'. Please pass lora_ga_config=LoraGAConfig(...) to LoraConfig.`);
    }
    if (typeof ga !== 'object' || Array.isArray(ga)) fail(`lora_ga_config must be an object, got ${JSON.stringify(ga)}`);
    const g = ga as Json;
    return { kind: 'loraga', ...base, direction: g.direction ?? 'ArB2r', scale: g.scale ?? 'stable', stableGamma: g.stable_gamma ?? 16 };
  }
  fail(`init_lora_weights=${JSON.stringify(init)} is not supported (supported: true, false, 'gaussian', 'pissa', 'pissa_niter_K', 'olora', 'lora_ga')`);
}

function missFromPeft(c: Json, bone: boolean): Json {
  const r = c.r ?? 64;
  const init = c.init_weights ?? true;
  if (init === true) return { kind: 'bone', r };
  if (init === 'bat') return { kind: 'bat', r, convention: 'out-block' };
  if (init === 'mini' && !bone) return { kind: 'mini', r, miniR: c.mini_r ?? 1 };
  if (init === false) fail(`init_weights=false (PEFT's random non-identity test init) is not supported; use true`);
  fail(`init_weights=${JSON.stringify(init)} is not supported for ${bone ? 'BONE' : 'MISS'} (supported: true, 'bat'${bone ? '' : ", 'mini'"})`);
}

/**
 * The AdapterConfig for a PEFT config (adapter_config.json contents). `method` is the conformance vectors' method
 * name (lora | dora | pissa | olora | loraga | miss | bone), used when peft_type is absent and checked against it.
 * `where` (a module path or file) prefixes error messages. Field types are checked (errors name the field);
 * shape-dependent checks happen in validateAdapterConfig.
 */
export function adapterConfigFromPeft(config: Json, method?: string, where?: string): AdapterConfig {
  try {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) fail(`expected a config object, got ${JSON.stringify(config)}`);
    const type = peftTypeOf(config, method);
    const partial = type === 'LORA' ? loraFromPeft(config) : missFromPeft(config, type === 'BONE');
    const cfg = resolveAdapterConfig(partial as { kind: string });
    if (method !== undefined && LORA_METHODS.includes(method) && method !== cfg.kind) {
      fail(`method '${method}' does not match the config, which describes a '${cfg.kind}' adapter`);
    }
    return cfg;
  } catch (e) {
    // Name the module (or file) the config was meant for.
    if (where && e instanceof AdapterConfigError) throw new AdapterConfigError(`${where}: ${e.message}`);
    throw e;
  }
}
