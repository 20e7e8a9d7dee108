/** Timing helpers for benchmarks: warm-up, then the median (and minimum) of repeated runs. */
import * as tf from '@tensorflow/tfjs';
import { median } from '../train/loop';

export interface Timing {
  median_ms: number;
  min_ms: number;
  runs: number;
}

/**
 * Time `fn` (which returns tensors to read back, so the work really happens) `runs` times after `warmup` runs. Each run
 * is tidied and its outputs are read with dataSync; nothing is kept. Never return a typed array from the tidy: tidy walks
 * returned containers, and walking a big typed array costs more than the work being timed.
 */
export function timeIt(fn: () => tf.Tensor[], runs = 7, warmup = 2): Timing {
  const once = () => {
    const t0 = performance.now();
    tf.tidy(() => {
      for (const t of fn()) t.dataSync();
    });
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) once();
  const ts = Array.from({ length: runs }, once);
  return { median_ms: median(ts), min_ms: Math.min(...ts), runs };
}
