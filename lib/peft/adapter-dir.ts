/**
 * PEFT adapter folders: `adapter_config.json` + `adapter_model.safetensors` (metadata {"format": "pt"}), with keys
 * `base_model.model.<module path>.<tensor>` exactly as PEFT's save_pretrained writes them for the default adapter:
 *   lora_A -> `.lora_A.weight`, lora_B -> `.lora_B.weight`, lora_B_bias -> `.lora_B.bias`,
 *   lora_magnitude_vector -> `.lora_magnitude_vector` (no `.weight`), miss_block -> `.miss_block`.
 * Old Bone checkpoints (`.bone_block`, peft_type BONE) read as MiSS. Module paths are the model's HF names
 * (`model.layers.0.self_attn.q_proj`, RWKV `blocks.0.att.key`); the prefix rule is the same for both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { toLora } from '../adapters/convert';
import type { AdapterConfig, AdapterLayer } from '../adapters/types';
import { AdapterConfigError } from '../adapters/types';
import { readSafetensors, writeSafetensors, type NamedTensor, type TensorMap } from '../io/safetensors';
import { matchesTarget, peftTargetModules, type TargetSpec } from '../models/targets';
import { writeFileAtomic } from '../util/fs';
import { convertedLoraConfig, fromPeftConfig, stringifyPeftConfig, toPeftConfig, type PeftConfigJson, type PeftExportOptions } from './config';

export const CONFIG_FILE = 'adapter_config.json';
export const WEIGHTS_FILE = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';

/** Kit parameter name (AdapterLayer.params()) -> PEFT key suffix. */
const KEY_SUFFIX: Record<string, string> = {
  lora_A: '.lora_A.weight',
  lora_B: '.lora_B.weight',
  lora_B_bias: '.lora_B.bias',
  lora_magnitude_vector: '.lora_magnitude_vector',
  miss_block: '.miss_block',
};
/** PEFT key suffixes accepted on read, longest first so `.lora_B.bias` is not taken for something shorter. */
const READ_SUFFIX: [string, string][] = [
  ['.lora_magnitude_vector.weight', 'lora_magnitude_vector'], // pre-0.10 PEFT kept the .weight
  ['.lora_magnitude_vector', 'lora_magnitude_vector'],
  ['.lora_A.weight', 'lora_A'],
  ['.lora_B.weight', 'lora_B'],
  ['.lora_B.bias', 'lora_B_bias'],
  ['.miss_block', 'miss_block'],
  ['.bone_block', 'miss_block'],
];

/** Adapter tensors per module: module path -> {kit parameter name -> tensor}. */
export type ModuleTensors = Map<string, Record<string, NamedTensor>>;

export interface AdapterDirContents {
  adapter: AdapterConfig;
  targets: TargetSpec;
  dropout: number;
  /** The raw adapter_config.json. */
  peftConfig: PeftConfigJson;
  tensors: ModuleTensors;
}

/** The tensor names an adapter of this config owns (what its params() returns). */
export function expectedParamNames(cfg: AdapterConfig): string[] {
  switch (cfg.kind) {
    case 'lora':
      return cfg.loraBias ? ['lora_A', 'lora_B', 'lora_B_bias'] : ['lora_A', 'lora_B'];
    case 'dora':
      return ['lora_A', 'lora_B', 'lora_magnitude_vector'];
    case 'pissa':
    case 'olora':
    case 'loraga':
      return ['lora_A', 'lora_B'];
    case 'bone':
    case 'mini':
    case 'bat':
      return ['miss_block'];
    case 'full':
      throw new AdapterConfigError(`adapter kind 'full' has no adapter tensors`);
  }
}

const fmt = (s: number[]) => `[${s.join(', ')}]`;

/**
 * Check one module's tensors against the config: the exact set of names, and the shapes the config implies
 * (lora_A [r, in], lora_B [out, r], bias/magnitude [out]; miss_block [r, out] / [r, mini_r] / [out/r, r, r]).
 */
export function checkModuleTensors(module: string, cfg: AdapterConfig, t: Record<string, NamedTensor>, where: string): void {
  const want = expectedParamNames(cfg);
  for (const k of want) if (!(k in t)) throw new Error(`${where}: module '${module}' is missing tensor '${k}' (${cfg.kind} needs ${want.join(', ')})`);
  for (const k of Object.keys(t)) if (!want.includes(k)) throw new Error(`${where}: module '${module}' has unexpected tensor '${k}' for a ${cfg.kind} adapter (expected ${want.join(', ')})`);
  const bad = (k: string, expect: string) => new Error(`${where}: module '${module}' tensor '${k}' has shape ${fmt(t[k].shape)}, expected ${expect} for ${cfg.kind} r=${(cfg as { r: number }).r}`);
  if ('lora_A' in t) {
    const [a, b] = [t.lora_A.shape, t.lora_B.shape];
    if (a.length !== 2 || a[0] !== (cfg as { r: number }).r) throw bad('lora_A', '[r, in]');
    if (b.length !== 2 || b[1] !== (cfg as { r: number }).r) throw bad('lora_B', '[out, r]');
    for (const k of ['lora_B_bias', 'lora_magnitude_vector'])
      if (k in t && (t[k].shape.length !== 1 || t[k].shape[0] !== b[0])) throw bad(k, `[out] = [${b[0]}]`);
  }
  if ('miss_block' in t) {
    const s = t.miss_block.shape;
    if (cfg.kind === 'bone' && (s.length !== 2 || s[0] !== cfg.r)) throw bad('miss_block', '[r, out]');
    if (cfg.kind === 'mini' && (s.length !== 2 || s[0] !== cfg.r || s[1] !== cfg.miniR)) throw bad('miss_block', `[r, mini_r] = [${cfg.r}, ${cfg.miniR}]`);
    if (cfg.kind === 'bat' && (s.length !== 3 || s[1] !== cfg.r || s[2] !== cfg.r)) throw bad('miss_block', '[out/r, r, r]');
  }
}

export interface WriteAdapterOptions extends PeftExportOptions {
  /** target_modules to write; default: derived from the module paths (peftTargetModules), using allModules if given. */
  targets?: TargetSpec;
  /** Every linear module of the model, so derived targets can be PEFT's short suffixes (q_proj) when unambiguous. */
  allModules?: string[];
  /**
   * PiSSA / OLoRA / LoRA-GA only: save as the equivalent rank-2r plain LoRA on the ORIGINAL base weight (PEFT's
   * path_initial_model_for_weight_conversion): A' = [A; A0], B' = [B | -B0], r <- 2r, alpha <- 2 alpha (sqrt(2) alpha
   * with rsLoRA), init_lora_weights true. Loading it needs no residual init, so it works on the untouched base model.
   */
  convertToLora?: boolean;
}

/** Write an adapter folder from plain tensors (module path -> {lora_A, lora_B, ...}). */
export function writeAdapterFiles(dir: string, adapter: AdapterConfig, tensors: ModuleTensors, opts: WriteAdapterOptions = {}): void {
  if (tensors.size === 0) throw new Error(`peft write ${dir}: no adapter modules to write`);
  const targets = opts.targets ?? peftTargetModules([...tensors.keys()], opts.allModules);
  const config = toPeftConfig(adapter, targets, opts);
  const flat: TensorMap = new Map();
  for (const [module, params] of tensors) {
    if (!matchesTarget(module, targets)) throw new Error(`peft write ${dir}: module '${module}' is not covered by target_modules ${JSON.stringify(targets)}`);
    checkModuleTensors(module, adapter, params, `peft write ${dir}`);
    for (const [k, t] of Object.entries(params)) flat.set(`${PREFIX}${module}${KEY_SUFFIX[k]}`, { shape: t.shape.slice(), data: t.data });
  }
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, WEIGHTS_FILE), flat, { format: 'pt' });
  writeFileAtomic(path.join(dir, CONFIG_FILE), stringifyPeftConfig(config));
}

/** Read the current values of an adapter layer's tensors (float32 copies). */
export function layerTensors(layer: AdapterLayer): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  for (const [k, v] of Object.entries(layer.params())) {
    if (!(k in KEY_SUFFIX)) throw new Error(`peft write: adapter on '${layer.base.name}' has a tensor '${k}' with no PEFT name (known: ${Object.keys(KEY_SUFFIX).join(', ')})`);
    out[k] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) };
  }
  return out;
}

const sameConfig = (a: AdapterConfig, b: AdapterConfig) => JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());

/**
 * Write the adapters of a model as a PEFT folder. All layers must share one config (PEFT has one config per adapter
 * folder); it is taken from the layers.
 */
export function writeAdapterDir(dir: string, layers: Map<string, AdapterLayer>, opts: WriteAdapterOptions = {}): void {
  const first = layers.values().next().value as AdapterLayer | undefined;
  if (!first) throw new Error(`peft write ${dir}: no adapter layers to write`);
  const tensors: ModuleTensors = new Map();
  for (const [module, layer] of layers) {
    if (!sameConfig(layer.config, first.config))
      throw new Error(`peft write ${dir}: module '${module}' has config ${JSON.stringify(layer.config)} but others have ${JSON.stringify(first.config)} (one adapter folder holds one config)`);
  }
  if (!opts.convertToLora) {
    for (const [module, layer] of layers) tensors.set(module, layerTensors(layer));
    writeAdapterFiles(dir, first.config, tensors, opts);
    return;
  }
  const cfg = convertedLoraConfig(first.config); // refuses kinds other than pissa / olora / loraga
  for (const [module, layer] of layers) {
    const exp = toLora(layer);
    try {
      const rec: Record<string, NamedTensor> = {};
      for (const [k, t] of Object.entries(exp.params)) rec[k] = { shape: t.shape.slice(), data: Float32Array.from(t.dataSync() as Float32Array) };
      tensors.set(module, rec);
    } finally {
      tf.dispose(Object.values(exp.params));
    }
  }
  writeAdapterFiles(dir, cfg, tensors, opts);
}

/** Split a PEFT key into module path and kit parameter name; null if it is not an adapter tensor key. */
function splitKey(key: string): { module: string; param: string } | null {
  if (!key.startsWith(PREFIX)) return null;
  const rest = key.slice(PREFIX.length);
  for (const [suffix, param] of READ_SUFFIX) if (rest.endsWith(suffix) && rest.length > suffix.length) return { module: rest.slice(0, -suffix.length), param };
  return null;
}

/**
 * Read an adapter folder: config (fromPeftConfig) and tensors grouped by module path. Unknown keys, a module outside
 * target_modules, a missing or extra tensor for the adapter kind, and shapes inconsistent with r are errors.
 */
export function readAdapterDir(dir: string): AdapterDirContents {
  const cfgFile = path.join(dir, CONFIG_FILE);
  const wFile = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(cfgFile)) throw new Error(`peft read ${dir}: missing ${CONFIG_FILE}`);
  if (!fs.existsSync(wFile)) throw new Error(`peft read ${dir}: missing ${WEIGHTS_FILE}`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    throw new Error(`${cfgFile}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = fromPeftConfig(json, cfgFile);
  const { tensors: flat } = readSafetensors(wFile);
  const tensors: ModuleTensors = new Map();
  for (const [key, t] of flat) {
    const s = splitKey(key);
    if (!s) throw new Error(`${wFile}: unexpected tensor key '${key}' (expected '${PREFIX}<module>' + one of ${READ_SUFFIX.map((x) => x[0]).join(', ')})`);
    if ((parsed.peftType === 'LORA') !== s.param.startsWith('lora_'))
      throw new Error(`${wFile}: tensor '${key}' does not belong to a ${parsed.peftType} adapter`);
    const rec = tensors.get(s.module) ?? {};
    if (s.param in rec) throw new Error(`${wFile}: module '${s.module}' has tensor '${s.param}' twice (key '${key}')`);
    rec[s.param] = t;
    tensors.set(s.module, rec);
  }
  if (tensors.size === 0) throw new Error(`${wFile}: no adapter tensors`);
  for (const [module, rec] of tensors) {
    if (!matchesTarget(module, parsed.targets)) throw new Error(`${wFile}: module '${module}' has adapter tensors but is not in target_modules ${JSON.stringify(parsed.targets)}`);
    checkModuleTensors(module, parsed.adapter, rec, wFile);
  }
  return { adapter: parsed.adapter, targets: parsed.targets, dropout: parsed.dropout, peftConfig: json as PeftConfigJson, tensors };
}

/**
 * Assign read tensors into existing adapter layers (same module paths, same kind). Every layer must receive all of
 * its tensors and every read module must have a layer; a shape mismatch names the module, the key and both shapes.
 */
export function loadAdapterTensors(tensors: ModuleTensors, layers: Map<string, AdapterLayer>, where = 'peft load'): void {
  for (const module of tensors.keys())
    if (!layers.has(module)) throw new Error(`${where}: the file has adapter tensors for module '${module}' but the model has no adapter there (adapters on: ${[...layers.keys()].slice(0, 8).join(', ')}${layers.size > 8 ? ', ...' : ''})`);
  // Validate everything before assigning anything, so a failed load leaves the layers untouched.
  for (const [module, layer] of layers) {
    const rec = tensors.get(module);
    if (!rec) throw new Error(`${where}: module '${module}' has an adapter but the file has no tensors for it`);
    const params = layer.params();
    for (const k of Object.keys(rec)) if (!(k in params)) throw new Error(`${where}: module '${module}': the file has tensor '${k}' but the ${layer.kind} adapter has only ${Object.keys(params).join(', ')}`);
    for (const [k, v] of Object.entries(params)) {
      const t = rec[k];
      if (!t) throw new Error(`${where}: module '${module}': the file has no tensor '${k}' for the ${layer.kind} adapter`);
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))
        throw new Error(`${where}: module '${module}' key '${k}': file shape ${fmt(t.shape)} but the adapter expects ${fmt(v.shape)}`);
    }
  }
  for (const [module, layer] of layers) {
    const rec = tensors.get(module)!;
    for (const [k, v] of Object.entries(layer.params())) {
      const t = tf.tensor(rec[k].data, rec[k].shape, 'float32');
      v.assign(t);
      t.dispose();
    }
  }
}

/** Config fields that change an adapter's maths (init-only fields such as LoRA's init or PiSSA's niter are left out). */
function mathFields(c: AdapterConfig): Record<string, unknown> {
  const o = c as unknown as Record<string, unknown>;
  const keys = ['kind', 'r', 'alpha', 'rslora', 'loraBias', 'miniR', 'convention'];
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

/**
 * Read an adapter folder into the model's existing adapter layers (created with the same config on the same
 * targets). The layers' configs must agree with the file on every field that changes the maths.
 */
export function loadAdapterDir(dir: string, layers: Map<string, AdapterLayer>): AdapterDirContents {
  const contents = readAdapterDir(dir);
  const want = JSON.stringify(mathFields(contents.adapter));
  for (const [module, layer] of layers) {
    const got = JSON.stringify(mathFields(layer.config));
    if (got !== want) throw new Error(`peft load ${dir}: module '${module}' has adapter ${got} but the file holds ${want}`);
  }
  loadAdapterTensors(contents.tensors, layers, `peft load ${dir}`);
  return contents;
}
