/** Which variables an optimiser updates, derived from state rather than bookkeeping, for any model family. */
import type * as tf from '@tensorflow/tfjs';
import type { Linear } from './types';

/**
 * Base parameters marked trainable (full fine-tuning marks them all) plus every attached adapter's variables,
 * each variable once (a tied lm_head shares the embedding).
 */
export function collectTrainable(params: Iterable<tf.Variable>, linears: Iterable<Linear>): tf.Variable[] {
  const out = new Set<tf.Variable>();
  for (const v of params) if (v.trainable) out.add(v);
  for (const l of linears) if (l.adapter) for (const v of l.adapter.trainableVariables()) out.add(v);
  return [...out];
}
