/**
 * HF checkpoint folders: `config.json` plus `model.safetensors`, or shards listed in `model.safetensors.index.json`
 * (`weight_map`). F32/F16/BF16 storage is read as float32; models are saved as one F32 `model.safetensors`, so every
 * folder the kit writes is a normal HF checkpoint. Family-agnostic: the model files map names to shapes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { CausalLM } from './types';
import { readSafetensors, writeSafetensors, type TensorMap } from '../io/safetensors';
import { readJson, writeJsonAtomic } from '../util/fs';

/** One tensor a model expects: its HF state-dict name and shape. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/** The first few names of a list, for error messages. */
export function listSome(names: string[], n = 5): string {
  return names.slice(0, n).join(', ') + (names.length > n ? `, ... (${names.length} in all)` : '');
}

/** Read `config.json` of a checkpoint folder. */
export function readHfConfig(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir)) throw new Error(`checkpoint folder not found: ${dir}`);
  if (!fs.existsSync(file)) throw new Error(`${dir}: no config.json in the checkpoint folder`);
  const cfg = readJson<Record<string, unknown>>(file);
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${file}: must hold a JSON object`);
  return cfg;
}

/** Read every weight of a checkpoint folder (single file or sharded) as float32. */
export function readHfWeights(dir: string): TensorMap {
  const single = path.join(dir, 'model.safetensors');
  if (fs.existsSync(single)) return readSafetensors(single).tensors;
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(indexFile)) {
    const index = readJson<{ weight_map?: Record<string, string> }>(indexFile);
    const map = index.weight_map;
    if (!map || typeof map !== 'object') throw new Error(`${indexFile}: missing 'weight_map'`);
    const out: TensorMap = new Map();
    for (const shard of [...new Set(Object.values(map))].sort()) {
      const file = path.join(dir, shard);
      if (!fs.existsSync(file)) throw new Error(`${indexFile}: shard '${shard}' listed in weight_map is missing`);
      const { tensors } = readSafetensors(file);
      for (const [name, t] of tensors) {
        if (map[name] !== shard) continue; // only what the index assigns to this shard
        out.set(name, t);
      }
    }
    const lost = Object.keys(map).filter((n) => !out.has(n));
    if (lost.length) throw new Error(`${indexFile}: tensors listed in weight_map but absent from their shard: ${listSome(lost)}`);
    return out;
  }
  const bins = fs.readdirSync(dir).filter((f) => f.endsWith('.bin') || f.endsWith('.pt') || f.endsWith('.pth'));
  throw new Error(
    `${dir}: no model.safetensors or model.safetensors.index.json` +
      (bins.length ? ` (found ${bins.join(', ')}: PyTorch pickle checkpoints are not supported; convert them to safetensors)` : ''),
  );
}

/**
 * Take the expected tensors from a checkpoint: every error at once (missing names; shape mismatches with both shapes),
 * plus the names nothing asked for (HF ignores unexpected keys with a warning; the caller decides).
 */
export function takeTensors(
  tensors: TensorMap,
  specs: ParamSpec[],
  where: string,
  ignorable: (name: string) => boolean = () => false,
): { data: Map<string, Float32Array>; unused: string[] } {
  const data = new Map<string, Float32Array>();
  const errors: string[] = [];
  for (const { name, shape } of specs) {
    const t = tensors.get(name);
    if (!t) errors.push(`missing tensor '${name}' (expected shape [${shape}])`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      errors.push(`tensor '${name}' has shape [${t.shape}] but the config implies [${shape}]`);
    else data.set(name, t.data);
  }
  if (errors.length) throw new Error(`${where}: ${errors.length} problem(s) with the weights:\n  ${errors.join('\n  ')}`);
  const wanted = new Set(specs.map((s) => s.name));
  const unused = [...tensors.keys()].filter((n) => !wanted.has(n) && !ignorable(n)).sort();
  return { data, unused };
}

/** Write an HF folder: config.json (torch_dtype float32) and model.safetensors (F32) from named variables. */
export async function writeHfCheckpoint(dir: string, config: Record<string, unknown>, params: Map<string, tf.Tensor>): Promise<void> {
  const tensors: TensorMap = new Map();
  for (const [name, v] of params) tensors.set(name, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeJsonAtomic(path.join(dir, 'config.json'), { ...config, torch_dtype: 'float32' });
}

/**
 * Save a model's base weights as an HF folder. Refuses while adapters are attached: their bases may hold a residual
 * (PiSSA, OLoRA, LoRA-GA), so merge first (mergeAndUnload) or export the adapter on its own.
 */
export async function saveModel(model: CausalLM, dir: string): Promise<void> {
  const withAdapter = [...model.linears()].filter(([, l]) => l.adapter).map(([n]) => n);
  if (withAdapter.length)
    throw new Error(
      `saveModel: ${withAdapter.length} module(s) still carry adapters (${listSome(withAdapter)}); call mergeAndUnload first or export the adapter`,
    );
  await writeHfCheckpoint(dir, model.config, model.parameters());
}
