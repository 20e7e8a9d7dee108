/**
 * Language-model batches from one long token stream (pretraining on the generated corpus or any text file):
 * random windows of seqLen tokens, labels = inputs (the model shifts), as nanoGPT's get_batch does, but drawn from the
 * kit's seeded Rng so a seed and a step fix the batch.
 */
import { deriveSeed, Rng } from '../util/random';
import { assertPositiveInt } from './encode';
import type { Batch } from './types';

export interface LmBatchOptions {
  batchSize: number;
  seqLen: number;
  seed: number;
  /**
   * Share of rows (rounded) that hold a window followed by the same window again (default 0). Predicting the repeat
   * is only possible by finding it in the context: a dense signal for in-context copying, which a tiny model does not
   * learn from the rare repeats of ordinary text within a short pretraining.
   */
  repeatShare?: number;
}

/** Split a token stream into a train head and a validation tail (valFraction in [0, 1)). */
export function splitStream(tokens: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`splitStream: valFraction must be in [0, 1), got ${valFraction}`);
  const cut = Math.floor(tokens.length * (1 - valFraction));
  return { train: tokens.subarray(0, cut), val: tokens.subarray(cut) };
}

/** The LM batch of one step: batchSize random windows of seqLen tokens, from (seed, step) alone. */
export function lmBatch(tokens: Int32Array, step: number, opts: LmBatchOptions): Batch {
  assertPositiveInt(opts.batchSize, 'lmBatch: batchSize');
  assertPositiveInt(opts.seqLen, 'lmBatch: seqLen', 2);
  assertPositiveInt(step, 'lmBatch: step', 0);
  if (tokens.length < opts.seqLen) {
    throw new Error(`lmBatch: the token stream has ${tokens.length} tokens, fewer than seqLen=${opts.seqLen}`);
  }
  const share = opts.repeatShare ?? 0;
  if (!(share >= 0 && share <= 1)) throw new Error(`lmBatch: repeatShare must be in [0, 1], got ${share}`);
  const rng = new Rng(deriveSeed(opts.seed, `lm-batch/step-${step}`));
  const { batchSize: B, seqLen: T } = opts;
  const repeats = Math.round(B * share);
  const half = Math.ceil(T / 2);
  const inputIds = new Int32Array(B * T); // [B, T]
  const starts: string[][] = [];
  for (let b = 0; b < B; b++) {
    const start = rng.int(tokens.length - T + 1);
    if (b < repeats) {
      inputIds.set(tokens.subarray(start, start + half), b * T);
      inputIds.set(tokens.subarray(start, start + T - half), b * T + half); // the same text again
      starts.push([`@${start}x2`]);
    } else {
      inputIds.set(tokens.subarray(start, start + T), b * T);
      starts.push([`@${start}`]);
    }
  }
  return { inputIds, labels: inputIds.slice(), shape: [B, T], exampleIds: starts, segmentIds: new Int32Array(B * T).fill(1) };
}

/** Consecutive, non-overlapping windows covering a stream once (for a deterministic validation loss). */
export function lmWindows(tokens: Int32Array, opts: Omit<LmBatchOptions, 'seed'>): Batch[] {
  assertPositiveInt(opts.batchSize, 'lmWindows: batchSize');
  assertPositiveInt(opts.seqLen, 'lmWindows: seqLen', 2);
  const { batchSize: B, seqLen: T } = opts;
  const n = Math.floor(tokens.length / T);
  if (n === 0) throw new Error(`lmWindows: the token stream has ${tokens.length} tokens, fewer than seqLen=${T}`);
  const out: Batch[] = [];
  for (let w = 0; w < n; w += B) {
    const rows = Math.min(B, n - w);
    const inputIds = tokens.slice(w * T, (w + rows) * T); // [rows, T]
    const ids = Array.from({ length: rows }, (_, r) => [`@${(w + r) * T}`]);
    out.push({ inputIds, labels: inputIds.slice(), shape: [rows, T], exampleIds: ids, segmentIds: new Int32Array(rows * T).fill(1) });
  }
  return out;
}
