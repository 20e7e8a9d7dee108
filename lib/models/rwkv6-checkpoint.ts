/**
 * RWKV6 checkpoint folders: `model.safetensors` with the official x060 tensor names (as in the official .pth files,
 * e.g. converted with safetensors' torch API) plus an optional `config.json` ({"model_type": "rwkv6", n_embd, ...}).
 * Sizes are inferred from the tensor shapes; a config.json, when present, must agree with them. Other RWKV versions
 * (4/5/7), the Hugging Face transformers layout and state-tuned files are rejected with an error naming the tensor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors, type TensorMap } from '../io/safetensors';
import { readJson, writeJsonAtomic } from '../util/fs';
import { parseRwkv6Config, rwkv6Defaults, rwkv6TensorShapes, validateRwkv6Config, type Rwkv6Config } from './rwkv6-config';
import { Rwkv6Model, type Rwkv6Options } from './rwkv6';

/** Tensor-name patterns of other RWKV generations and layouts, with what they indicate. */
const FOREIGN: [RegExp, string][] = [
  [/^(rwkv|model)\./, 'a Hugging Face transformers RWKV layout (use the official names: emb.weight, blocks.N.att.key.weight, ...)'],
  [/\.att\.(x_[rwkvag]|w0|w1|w2|a0|a1|a2|v0|v1|v2|g1|g2|k_k|k_a|r_k)$/, 'an RWKV-7 (x070) tensor'],
  [/\.att\.time_mix_[kvrg]$/, 'an RWKV-4/5 token-shift tensor (RWKV-6 uses the ddlerp time_maa_* tensors)'],
  [/\.att\.time_first$/, 'an RWKV-4/5 tensor (RWKV-6 names the bonus time_faaaa)'],
  [/\.ffn\.time_mix_[kr]$/, 'an RWKV-4/5 channel-mix tensor (RWKV-6 uses ffn.time_maa_k / time_maa_r)'],
  [/\.att\.time_state$/, 'a state-tuning tensor (not supported)'],
];

function shapeOf(t: TensorMap, name: string, file: string, why: string): number[] {
  const e = t.get(name);
  if (!e) throw new Error(`${file}: missing tensor ${name} (${why})`);
  return e.shape;
}

/** The config implied by an official-name tensor map, checked against a config.json object when one is given. */
export function rwkv6ConfigFromTensors(tensors: TensorMap, raw: Record<string, unknown> | null, file = 'model.safetensors'): Rwkv6Config {
  for (const name of tensors.keys())
    for (const [re, what] of FOREIGN) if (re.test(name)) throw new Error(`${file}: tensor ${name} is ${what}; only RWKV-6 (x060) checkpoints are supported`);
  const [V, C] = shapeOf(tensors, 'emb.weight', file, 'token embedding');
  const layers = new Set<number>();
  for (const name of tensors.keys()) {
    const m = /^blocks\.(\d+)\./.exec(name);
    if (m) layers.add(Number(m[1]));
  }
  const nLayer = layers.size;
  if (nLayer === 0) throw new Error(`${file}: no blocks.N.* tensors found`);
  for (let i = 0; i < nLayer; i++) if (!layers.has(i)) throw new Error(`${file}: blocks are not numbered 0..${nLayer - 1} (missing blocks.${i})`);
  const A = shapeOf(tensors, 'blocks.0.att.key.weight', file, 'time-mix key')[0];
  const F = shapeOf(tensors, 'blocks.0.ffn.key.weight', file, 'channel-mix key')[0];
  const u = shapeOf(tensors, 'blocks.0.att.time_faaaa', file, 'RWKV-6 bonus u [n_head, head_size]');
  const w1 = shapeOf(tensors, 'blocks.0.att.time_maa_w1', file, 'RWKV-6 ddlerp [n_embd, 5 * d_mix_lora]');
  const dw1 = shapeOf(tensors, 'blocks.0.att.time_decay_w1', file, 'RWKV-6 data-dependent decay [n_embd, d_decay_lora]');
  if (u.length !== 2) throw new Error(`${file}: tensor blocks.0.att.time_faaaa has shape [${u}], expected [n_head, head_size]`);
  if (w1.length !== 2 || w1[1] % 5 !== 0)
    throw new Error(`${file}: tensor blocks.0.att.time_maa_w1 has shape [${w1}], expected [n_embd, 5 * d_mix_lora]`);
  const inferred: Partial<Rwkv6Config> = {
    vocab_size: V,
    n_embd: C,
    n_layer: nLayer,
    dim_att: A,
    dim_ffn: F,
    head_size: u[1],
    d_mix_lora: w1[1] / 5,
    d_decay_lora: dw1[1],
  };
  let cfg: Rwkv6Config;
  if (raw) {
    for (const [k, v] of Object.entries(inferred)) {
      const given = raw[k];
      if (given !== undefined && given !== v)
        throw new Error(`config.json: ${k}=${JSON.stringify(given)} disagrees with the tensors in ${file} (which imply ${k}=${v})`);
    }
    cfg = parseRwkv6Config({ ...raw, ...inferred }, 'config.json');
  } else {
    cfg = rwkv6Defaults(inferred as Rwkv6Config);
  }
  validateRwkv6Config(cfg, file);
  return cfg;
}

/** Check every tensor against the config: none missing, none unexpected, shapes official (a [C] vector may stand for [1, 1, C]). */
export function checkRwkv6Tensors(tensors: TensorMap, cfg: Rwkv6Config, file = 'model.safetensors'): TensorMap {
  const want = rwkv6TensorShapes(cfg);
  for (const name of tensors.keys()) if (!want.has(name)) throw new Error(`${file}: unexpected tensor ${name} for an RWKV-6 model`);
  const out: TensorMap = new Map();
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${file}: missing tensor ${name} (expected shape [${shape}])`);
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    const squeezed = shape.length === 3 && shape[0] === 1 && shape[1] === 1 && t.shape.length === 1 && t.shape[0] === shape[2];
    if (!same && !squeezed) throw new Error(`${file}: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    out.set(name, { shape: shape.slice(), data: t.data });
  }
  return out;
}

/** Tensor names in a safetensors file, reading only its header. */
function safetensorsNames(file: string): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    if (fs.readSync(fd, len, 0, 8, 0) < 8) return [];
    const n = Number(len.readBigUInt64LE(0));
    const size = fs.fstatSync(fd).size;
    if (n > size - 8) return [];
    const head = Buffer.alloc(n);
    fs.readSync(fd, head, 0, n, 8);
    return Object.keys(JSON.parse(head.toString('utf8'))).filter((k) => k !== '__metadata__');
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether a folder looks like an RWKV6 checkpoint: config model_type 'rwkv6', or (no config) official RWKV tensor names. */
export function isRwkv6Checkpoint(dir: string): boolean {
  const cfgFile = path.join(dir, 'config.json');
  if (fs.existsSync(cfgFile)) return readJson<Record<string, unknown>>(cfgFile).model_type === 'rwkv6';
  const file = path.join(dir, 'model.safetensors');
  return fs.existsSync(file) && safetensorsNames(file).some((k) => k === 'emb.weight' || /^blocks\.\d+\.att\./.test(k));
}

/** Load an RWKV6 checkpoint folder. */
export function loadRwkv6(dir: string, opts: Rwkv6Options = {}): Rwkv6Model {
  const file = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(file)) {
    const have = fs.existsSync(dir) ? fs.readdirSync(dir).join(', ') || '(empty)' : '(folder does not exist)';
    throw new Error(`rwkv6: ${file} not found (folder holds: ${have})`);
  }
  const cfgFile = path.join(dir, 'config.json');
  const raw = fs.existsSync(cfgFile) ? readJson<Record<string, unknown>>(cfgFile) : null;
  const { tensors } = readSafetensors(file);
  const cfg = rwkv6ConfigFromTensors(tensors, raw, file);
  return new Rwkv6Model(cfg, checkRwkv6Tensors(tensors, cfg, file), opts);
}

/** The model's base parameters as a plain map (official names and shapes). */
export function rwkv6Weights(model: Rwkv6Model): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, v] of model.parameters()) out.set(name, { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) });
  return out;
}

/** Save the model's base parameters (official names and shapes) and its config.json into a folder. */
export function saveRwkv6(model: Rwkv6Model, dir: string): void {
  const tensors = checkRwkv6Tensors(rwkv6Weights(model), model.cfg);
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeJsonAtomic(path.join(dir, 'config.json'), { ...model.cfg, architectures: ['Rwkv6ForCausalLM'], torch_dtype: 'float32' });
}
