/**
 * Gradient norm of the trainable parameters before any update (the DiSHA claim, paper §2.5: Bone starts with a
 * full-fine-tuning-like gradient norm at every rank, LoRA far below). Measured on the mean loss over fixed batches,
 * as the trainer's first step sees it, with a per-tensor breakdown.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';
import type { CausalLM } from '../models/types';
import { accumulateGrads } from '../train/loop';
import type { TrainParam } from '../train/optimizer';

export interface GradNorm {
  /** Global L2 norm over every trainable tensor. */
  total: number;
  /** L2 norm per parameter name (parameters the loss does not reach are 0). */
  perParam: Record<string, number>;
  /** Mean loss over the batches. */
  loss: number;
}

/** Gradient norm of the mean loss over `batches` with respect to `params` (no update, nothing leaked). */
export function gradientNorm(model: CausalLM, params: TrainParam[], batches: Batch[]): GradNorm {
  if (batches.length === 0) throw new Error('gradientNorm: needs at least one batch');
  const { loss, grads } = accumulateGrads(model, params, batches);
  const names = Object.keys(grads);
  let sqv: ArrayLike<number> = [];
  if (names.length) {
    const sq = tf.tidy(() => tf.stack(names.map((n) => tf.sum(tf.square(grads[n]))))); // [P]
    sqv = sq.dataSync();
    sq.dispose();
  }
  const lossV = loss.dataSync()[0];
  tf.dispose([loss, ...Object.values(grads)]);
  const perParam: Record<string, number> = {};
  for (const p of params) perParam[p.name] = 0;
  let total = 0;
  names.forEach((n, i) => {
    perParam[n] = Math.sqrt(sqv[i]);
    total += sqv[i];
  });
  return { total: Math.sqrt(total), perParam, loss: lossV };
}
