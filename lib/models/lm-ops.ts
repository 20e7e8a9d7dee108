/**
 * Language-model building blocks shared by the model families: RMSNorm, an embedding lookup and the causal-LM loss.
 * Gather's own gradient needs the UnsortedSegmentSum kernel, which the wasm backend lacks, so the two gathers here
 * carry custom gradients built on scatterND (which sums duplicate indices on wasm and cpu alike).
 */
import * as tf from '@tensorflow/tfjs';

type GradFn = Parameters<typeof tf.customGrad>[0];

/** HF LlamaRMSNorm: x / sqrt(mean(x^2) + eps) * weight, over the last axis of x [N, C]. */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true); // [N, 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight) as tf.Tensor2D; // [N, C]
  });
}

/** Throw naming `what` when any id is outside [0, size) (ignoreValue, e.g. -100 for labels, is allowed). */
export function checkIds(ids: ArrayLike<number>, size: number, what: string, ignoreValue?: number): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (v === ignoreValue) continue;
    if (!Number.isInteger(v) || v < 0 || v >= size) throw new Error(`${what}: id ${v} at position ${i} is out of range [0, ${size})`);
  }
}

/** Rows of table [V, C] at ids [N] -> [N, C]; the table gradient is a scatter-add of the output gradient. */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const [V, C] = table.shape;
  // ids go through save(): a closure would be disposed by the caller's tidy before the backward pass runs
  const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(t, ids), // [N, C]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.reshape(saved[0], [-1, 1]), dy, [V, C]), // [V, C]
    };
  }) as unknown as GradFn);
  return f(table) as tf.Tensor2D;
}

/**
 * Per-row cross-entropy -log softmax(x)[label] for logits x [N, V] and labels [N] (all in range).
 * Forward: a max-shifted log-sum-exp minus the picked logit; backward: softmax(x) - onehot, with the onehot part as a
 * scatter. About 2x faster than differentiating tf.logSoftmax on wasm, and never builds a [N, V] one-hot.
 */
export function crossEntropyRows(x: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [N, V] = x.shape;
    const flatIdx = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), labels) as tf.Tensor1D; // [N] into [N*V]
    const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
      save([xi, flatIdx]);
      const shifted = tf.sub(xi, tf.max(xi, 1, true)); // [N, V]
      const lse = tf.log(tf.sum(tf.exp(shifted), 1)); // [N]
      return {
        value: tf.sub(lse, tf.gather(tf.reshape(shifted, [-1]), flatIdx)), // [N]
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const p = tf.mul(tf.softmax(saved[0] as tf.Tensor2D), tf.reshape(dy, [N, 1])); // [N, V]
          const picked = tf.reshape(tf.scatterND(tf.reshape(saved[1], [-1, 1]), dy, [N * V]), [N, V]); // [N, V]
          return tf.sub(p, picked);
        },
      };
    }) as unknown as GradFn);
    return f(x) as tf.Tensor1D;
  });
}

/**
 * HF causal-LM loss: logits [B, T, V] at position t predict labels [B, T] at t + 1; label -100 is ignored; the mean is
 * over the remaining positions (0 when none remain). Labels must already be checked to be in range or -100.
 */
export function causalLmLoss(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const x = tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]) as tf.Tensor2D; // [N, V]
    const y = tf.reshape(tf.slice(labels, [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D; // [N]
    const valid = tf.notEqual(y, tf.scalar(-100, 'int32')); // [N]
    const safe = tf.where(valid, y, tf.zerosLike(y)) as tf.Tensor1D; // [N] ignored rows point at class 0
    const validF = tf.cast(valid, 'float32');
    const nll = crossEntropyRows(x, safe); // [N]
    return tf.div(tf.sum(tf.mul(nll, validF)), tf.maximum(tf.sum(validF), 1)) as tf.Scalar;
  });
}

/** Check loss inputs: int32 ids and labels of equal shape [B, T] with T >= 2, labels in [0, V) or -100. */
export function checkLossInputs(inputIds: tf.Tensor, labels: tf.Tensor, vocabSize: number, where: string): void {
  if (labels.dtype !== 'int32') throw new Error(`${where}: labels must be int32, got ${labels.dtype}`);
  if (labels.rank !== 2 || inputIds.rank !== 2 || labels.shape[0] !== inputIds.shape[0] || labels.shape[1] !== inputIds.shape[1])
    throw new Error(`${where}: labels shape [${labels.shape}] must equal input_ids shape [${inputIds.shape}]`);
  if ((inputIds.shape[1] ?? 0) < 2) throw new Error(`${where}: the loss needs at least 2 positions per row, got T=${inputIds.shape[1]}`);
  checkIds(labels.dataSync(), vocabSize, `${where} labels`, -100);
}
