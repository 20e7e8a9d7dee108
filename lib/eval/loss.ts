/**
 * Teacher-forced held-out loss: the token-weighted mean cross-entropy over batches (so a batch with few response
 * tokens counts for little), and its perplexity. Labels follow HF: aligned with the inputs, the model shifts, so the
 * positions that carry loss are labels[:, 1:] != IGNORE_INDEX.
 */
import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX, type Batch } from '../data/types';
import type { CausalLM } from '../models/types';

/** Number of positions of a batch that contribute to the causal-LM loss. */
export function lossTokens(b: Batch): number {
  const [B, T] = b.shape;
  let n = 0;
  for (let r = 0; r < B; r++) for (let t = 1; t < T; t++) if (b.labels[r * T + t] !== IGNORE_INDEX) n++;
  return n;
}

/** Input ids and labels of a host batch as int32 tensors [B, T]. */
export function batchTensors(b: Batch): { ids: tf.Tensor2D; labels: tf.Tensor2D } {
  const [B, T] = b.shape;
  if (b.inputIds.length !== B * T || b.labels.length !== B * T)
    throw new Error(`batch: shape [${B}, ${T}] needs ${B * T} ids and labels, got ${b.inputIds.length} and ${b.labels.length}`);
  return { ids: tf.tensor2d(b.inputIds, [B, T], 'int32'), labels: tf.tensor2d(b.labels, [B, T], 'int32') };
}

export interface EvalLoss {
  /** Token-weighted mean cross-entropy (nats). */
  loss: number;
  /** exp(loss). */
  ppl: number;
  /** Positions scored. */
  tokens: number;
}

/** Held-out loss over `batches` (no gradients, nothing leaked). */
export function evalLoss(model: CausalLM, batches: Batch[]): EvalLoss {
  let sum = 0;
  let tokens = 0;
  for (const b of batches) {
    const n = lossTokens(b);
    if (n === 0) continue; // a batch with nothing to score would contribute 0/0
    const l = tf.tidy(() => {
      const { ids, labels } = batchTensors(b);
      return model.loss(ids, labels);
    });
    const v = l.dataSync()[0];
    l.dispose();
    sum += v * n;
    tokens += n;
  }
  if (tokens === 0) throw new Error('evalLoss: no batch has a position with a label (all labels are IGNORE_INDEX)');
  const loss = sum / tokens;
  return { loss, ppl: Math.exp(loss), tokens };
}
