/**
 * LoRA-GA's preprocessing (PEFT preprocess_loraga): the gradient of the loss with respect to each target base weight,
 * averaged over a few training batches, computed before the adapters exist. The weights are made trainable only for
 * this pass and restored afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';
import { injectAdapters, type ContextFor } from '../models/inject';
import { selectTargets } from '../models/targets';
import type { CausalLM, InjectOptions } from '../models/types';
import { accumulateGrads } from './loop';

/** Averaged gradient [out, in] of every named target's base weight over `batches` (caller disposes the tensors). */
export function averagedBaseGrads(model: CausalLM, targets: string[], batches: Batch[]): Map<string, tf.Tensor2D> {
  if (batches.length === 0) throw new Error('LoRA-GA: needs at least one batch to estimate the gradient');
  const linears = model.linears();
  const params = targets.map((name) => {
    const l = linears.get(name);
    if (!l) throw new Error(`LoRA-GA: target '${name}' is not a linear module of the model`);
    return { name, variable: l.weight as tf.Variable, lrScale: 1, decay: false };
  });
  const flags = params.map((p) => p.variable.trainable);
  for (const p of params) p.variable.trainable = true;
  try {
    const { loss, grads } = accumulateGrads(model, params, batches);
    loss.dispose();
    const missing = targets.filter((n) => !grads[n]);
    if (missing.length) {
      Object.values(grads).forEach((g) => g.dispose());
      throw new Error(`LoRA-GA: the loss does not depend on ${missing.length} target(s) (${missing[0]}, ...)`);
    }
    return new Map(targets.map((n) => [n, grads[n] as tf.Tensor2D]));
  } finally {
    params.forEach((p, i) => (p.variable.trainable = flags[i]));
  }
}

/**
 * injectAdapters, with LoRA-GA's gradient pass first when opts.adapter is LoRA-GA: `gradBatches` is called only then,
 * and the averaged gradients are disposed once the adapters hold what they need. Returns the adapted module names.
 */
export function injectWithInitGrads(model: CausalLM, opts: InjectOptions, gradBatches: () => Batch[]): string[] {
  if (opts.adapter.kind !== 'loraga') return injectAdapters(model, opts);
  const grads = averagedBaseGrads(model, selectTargets([...model.linears().keys()], opts.targets), gradBatches());
  const ctxFor: ContextFor = (name) => ({ initGrad: grads.get(name) });
  try {
    return injectAdapters(model, opts, ctxFor);
  } finally {
    tf.dispose([...grads.values()]);
  }
}
