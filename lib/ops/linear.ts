/**
 * Linear products whose forward and backward passes only call the plain (untransposed) matMul.
 * On the wasm backend tf.matMul with a transpose flag is 10-30x slower than the plain product, and tf's own
 * matMul gradient uses the transposed forms; an explicit tf.transpose of the smaller operand is cheap.
 */
import * as tf from '@tensorflow/tfjs';

/** a [m, k] x b [k, n] -> [m, n], gradients computed with explicit transposes and plain products. */
// tf.customGrad's typing cannot express (tensor, tensor, save) => ..., hence the casts.
type GradFn = Parameters<typeof tf.customGrad>[0];

export const matMulFast: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  ((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), // [m, n]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as tf.Tensor2D[];
        const da = tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)); // [m, n] x [n, k] = [m, k]
        const db = tf.matMul(tf.transpose(sa), dy as tf.Tensor2D); // [k, m] x [m, n] = [k, n]
        return [da, db];
      },
    };
  }) as unknown as GradFn,
) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * x [N, in] times a frozen weight W [out, in] transposed -> [N, out]. W is a constant here (closure), so the backward
 * pass computes only dx = dy W (one plain product) and never the [out, in] weight gradient.
 * wT, when given, is W already transposed ([in, out]), which saves the per-call transpose.
 */
export function linearFrozen(x: tf.Tensor2D, W: tf.Tensor2D, wT?: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const t = wT ?? tf.transpose(W); // [in, out]
    const value = tf.matMul(xi as tf.Tensor2D, t); // [N, out]
    if (!wT) t.dispose();
    return { value, gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as tf.Tensor2D, W)] }; // [N, out] x [out, in]
  }) as unknown as GradFn);
  return f(x) as tf.Tensor2D;
}

/** x [N, in] times a trainable W [out, in] transposed -> [N, out], with gradients to both (full fine-tuning). */
export function linearTrainable(x: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  return matMulFast(x, tf.transpose(W)); // [N, in] x [in, out]
}

/** The plain base layer y = x W^T + b for x [N, in]; the weight gets a gradient only when it is trainable (full fine-tuning). */
export function baseForward(
  base: { weight: tf.Variable<tf.Rank.R2>; bias: tf.Variable<tf.Rank.R1> | null },
  x: tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const y = base.weight.trainable ? linearTrainable(x, base.weight) : linearFrozen(x, base.weight); // [N, out]
    return base.bias ? (tf.add(y, base.bias) as tf.Tensor2D) : y;
  });
}
