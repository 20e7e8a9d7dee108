/**
 * Attaching adapters to any CausalLM (PEFT's get_peft_model / merge_and_unload / save_pretrained / from_pretrained),
 * generic over model.linears() and model.parameters(), so LLaMA and RWKV share it.
 */
import * as tf from '@tensorflow/tfjs';
import { createAdapter, getSpec, validateAdapterConfig } from '../adapters/registry';
import { AdapterConfigError, type AdapterLayer, type CreateContext } from '../adapters/types';
import {
  loadAdapterDir,
  loadAdapterTensors,
  readAdapterDir,
  writeAdapterDir,
  type AdapterDirContents,
  type WriteAdapterOptions,
} from '../peft/adapter-dir';
import { deriveSeed } from '../util/random';
import { listSome } from './hf-checkpoint';
import { selectTargets } from './targets';
import type { CausalLM, InjectOptions, Linear } from './types';

/** Extra per-module create inputs (LoRA-GA gradient, PiSSA omega...); the seed is always deriveSeed(seed, name). */
export type ContextFor = (name: string, linear: Linear) => Omit<Partial<CreateContext>, 'seed'>;

/** A linear whose weight is stored under another module's name (a tied lm_head): never adapted on its own. */
function isTied(params: Map<string, tf.Variable>, name: string, linear: Linear): boolean {
  return params.get(`${name}.weight`) !== linear.weight;
}

/**
 * Attach `opts.adapter` to the modules selected by `opts.targets` ('all-linear' = every linear but the output head;
 * suffixes such as q_proj or mlp.down_proj; 're:<regex>' matched against the whole module name). Every target is
 * validated first and all problems are reported together; creation is atomic (a failure restores every base weight).
 * Kind 'full' makes every base parameter trainable (embeddings and norms included) whatever the targets.
 * Returns the adapted module names.
 */
export function injectAdapters(model: CausalLM, opts: InjectOptions, ctxFor?: ContextFor): string[] {
  const cfg = opts.adapter;
  getSpec(cfg?.kind); // unknown kind: an error naming it and the known ones
  if (!Number.isInteger(opts.seed)) throw new Error(`injectAdapters: seed must be an integer, got ${JSON.stringify(opts.seed)}`);
  const linears = model.linears();
  const busy = [...linears].filter(([, l]) => l.adapter).map(([n]) => n);
  if (busy.length) throw new Error(`injectAdapters: ${busy.length} module(s) already carry an adapter (${listSome(busy)}); call mergeAndUnload first`);
  const params = model.parameters();
  const selected = selectTargets([...linears.keys()], opts.targets);
  const names = cfg.kind === 'full' ? [...linears.keys()].filter((n) => !isTied(params, n, linears.get(n)!)) : selected;

  const errors: string[] = [];
  for (const name of names) {
    const l = linears.get(name)!;
    if (cfg.kind !== 'full' && isTied(params, name, l)) {
      errors.push(`${name}: its weight is tied to another module's (tie_word_embeddings); an adapter here would change both`);
      continue;
    }
    try {
      validateAdapterConfig(cfg, { out: l.outFeatures, in: l.inFeatures, bias: l.bias !== null }, name);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new AdapterConfigError(`injectAdapters (${cfg.kind}): ${errors.length} target(s) rejected:\n  ${errors.join('\n  ')}`);

  const created: [Linear, AdapterLayer, tf.Tensor, tf.Tensor | null][] = [];
  try {
    for (const name of names) {
      const l = linears.get(name)!;
      // snapshots: PiSSA, OLoRA and LoRA-GA rewrite the base weight, so a later failure must be able to undo it
      const snapshot: [tf.Tensor, tf.Tensor | null] = [tf.clone(l.weight), l.bias ? tf.clone(l.bias) : null];
      const ctx: CreateContext = { ...ctxFor?.(name, l), seed: deriveSeed(opts.seed, name) };
      l.adapter = createAdapter(l, cfg, ctx);
      created.push([l, l.adapter, ...snapshot]);
    }
  } catch (e) {
    for (const [l, a, w, b] of created.reverse()) {
      a.dispose();
      l.adapter = null;
      l.weight.assign(w as tf.Tensor2D);
      if (b) l.bias!.assign(b as tf.Tensor1D);
    }
    throw e;
  } finally {
    for (const [, , w, b] of created) tf.dispose(b ? [w, b] : [w]);
  }
  if (cfg.kind === 'full') for (const v of params.values()) v.trainable = true;
  return names;
}

/** The attached adapters by module name. */
export function adapterLayers(model: CausalLM): Map<string, AdapterLayer> {
  const out = new Map<string, AdapterLayer>();
  for (const [name, l] of model.linears()) if (l.adapter) out.set(name, l.adapter);
  return out;
}

/** Merge every adapter into its base weight and remove it, leaving a plain model with every parameter frozen. */
export function mergeAndUnload(model: CausalLM, opts: { safe?: boolean } = {}): void {
  for (const l of model.linears().values()) {
    if (!l.adapter) continue;
    if (!l.adapter.merged) l.adapter.merge(opts);
    l.adapter.dispose();
    l.adapter = null;
  }
  for (const v of model.parameters().values()) v.trainable = false;
}

/** Write the model's adapters as a PEFT folder (adapter_config.json + adapter_model.safetensors). */
export function exportPeft(model: CausalLM, dir: string, opts: WriteAdapterOptions = {}): void {
  const layers = adapterLayers(model);
  if (layers.size === 0) throw new Error(`exportPeft ${dir}: the model has no adapters`);
  const kind = layers.values().next().value!.kind;
  if (kind === 'full') throw new Error(`exportPeft ${dir}: full fine-tuning has no PEFT adapter; save the whole model with saveModel`);
  writeAdapterDir(dir, layers, { allModules: [...model.linears().keys()], ...opts });
}

/**
 * Load a PEFT folder into the model. Without adapters attached, they are first created from the folder's config and
 * target_modules (with `seed`, and ctxFor for inits that need more, as PEFT re-runs the init before loading), then the
 * saved tensors overwrite them; with adapters attached, the tensors are loaded into those.
 */
export function importPeft(model: CausalLM, dir: string, opts: { seed?: number; ctxFor?: ContextFor } = {}): AdapterDirContents {
  const attached = adapterLayers(model);
  if (attached.size) return loadAdapterDir(dir, attached); // also checks the attached configs agree with the file
  const contents = readAdapterDir(dir);
  injectAdapters(model, { adapter: contents.adapter, targets: contents.targets, seed: opts.seed ?? 0 }, opts.ctxFor);
  loadAdapterTensors(contents.tensors, adapterLayers(model), `importPeft ${dir}`);
  return contents;
}
