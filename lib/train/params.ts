/**
 * The trainable parameters of a model, named and grouped for the optimiser. Names are the PEFT / HF state-dict
 * names (`<module>.lora_A`, `<module>.miss_block`, `model.embed_tokens.weight`...), so checkpoints are readable and
 * optimiser groups can be chosen by name, as PEFT's create_loraplus_optimizer does.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../models/types';
import type { TrainParam } from './optimizer';

export interface ParamGroupOptions {
  /** LoRA+ learning-rate ratio for lora_B (and, as in PEFT, every 1-D adapter tensor); null = off. */
  loraPlusRatio: number | null;
}

/** Name of every tensor the model knows: base parameters by state-dict name, adapter tensors as `<module>.<name>`. */
export function variableNames(model: CausalLM): Map<tf.Variable, string> {
  const names = new Map<tf.Variable, string>();
  for (const [n, v] of model.parameters()) names.set(v, n);
  for (const [mod, lin] of model.linears()) {
    if (!lin.adapter) continue;
    for (const [k, v] of Object.entries(lin.adapter.params())) names.set(v, `${mod}.${k}`);
  }
  return names;
}

/**
 * The model's trainable variables as optimiser parameters. Weight decay applies to matrices only (nanoGPT's rule:
 * no decay on norms, biases, magnitude vectors), and never to RWKV's `time_*` mixing, decay and bonus tensors (the
 * official RWKV-LM optimiser groups keep them out of weight decay; several are [1, 1, C] vectors). With LoRA+, lora_B tensors and 1-D adapter tensors get lr x ratio.
 */
export function collectTrainParams(model: CausalLM, opts: ParamGroupOptions): TrainParam[] {
  const vars = model.trainableVariables();
  if (vars.length === 0) throw new Error('training: the model has no trainable variables (inject an adapter, or use adapter kind "full")');
  const names = variableNames(model);
  const adapterVars = new Set<tf.Variable>();
  for (const lin of model.linears().values()) if (lin.adapter) for (const v of lin.adapter.trainableVariables()) adapterVars.add(v);
  const seen = new Set<string>();
  return vars.map((v) => {
    let name = names.get(v) ?? v.name;
    if (seen.has(name)) name = `${name}#${v.id}`;
    seen.add(name);
    const loraB = /(^|\.)lora_B/.test(name) || (adapterVars.has(v) && v.rank === 1);
    const lrScale = opts.loraPlusRatio !== null && loraB ? opts.loraPlusRatio : 1;
    return { name, variable: v, lrScale, decay: v.rank >= 2 && !/(^|\.)time_/.test(name) };
  });
}

/** Total number of scalars over the parameters. */
export function countParams(params: { variable: tf.Variable }[]): number {
  return params.reduce((a, p) => a + p.variable.size, 0);
}
