/**
 * Pieces every adapter shares: config checks with PEFT's wording, seeded init streams, the safe-merge commit,
 * parameter assignment by PEFT name, and tensor <-> float64 matrix conversion for init-time linear algebra.
 */
import * as tf from '@tensorflow/tfjs';
import { fromArray, type Matrix } from '../linalg/matrix';
import { Rng, deriveSeed } from '../util/random';
import { AdapterConfigError, type AdapterLayer, type CreateContext, type LinearBase } from './types';

/** PEFT's rank check (lora/layer.py, miss/layer.py), prefixed with the module. */
export function checkRank(r: unknown, where: string): void {
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) {
    throw new AdapterConfigError(`${where}: \`r\` should be a positive integer value but the value passed is ${String(r)}`);
  }
}

export function checkFinite(field: string, value: unknown, where: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AdapterConfigError(`${where}: '${field}' must be a finite number, got ${String(value)}`);
  }
}

export function checkShape(shape: { out: number; in: number }, where: string): void {
  for (const [k, v] of Object.entries({ out_features: shape.out, in_features: shape.in })) {
    if (!Number.isInteger(v) || v <= 0) throw new AdapterConfigError(`${where}: ${k} must be a positive integer, got ${String(v)}`);
  }
}

/** An independent random stream per module and tensor: seed -> module path -> tensor name. */
export function initRng(ctx: CreateContext, base: LinearBase, what: string): Rng {
  if (!Number.isFinite(ctx.seed)) throw new Error(`${base.name}: CreateContext.seed must be a finite number, got ${String(ctx.seed)}`);
  return new Rng(deriveSeed(deriveSeed(ctx.seed, base.name), what));
}

/** A trainable variable holding t's values; t itself is disposed (tf.variable shares its data but not its handle). */
export function toVariable<R extends tf.Rank>(t: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(t, true) as tf.Variable<R>;
  t.dispose();
  return v;
}

/** True when every entry is finite. */
export function allFinite(t: tf.Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1);
}

/**
 * Write a merged weight (and optionally a merged bias) into the base layer. With safe, check first and throw naming the
 * module if anything is non-finite, leaving the base untouched (PEFT's safe_merge).
 */
export function commitMerge(base: LinearBase, weight: tf.Tensor2D, bias: tf.Tensor1D | null, safe: boolean): void {
  if (safe && (!allFinite(weight) || (bias !== null && !allFinite(bias)))) {
    throw new Error(`${base.name}: NaNs or infinities detected in the merged weights; the adapter seems to be broken (base weight left unchanged)`);
  }
  base.weight.assign(weight);
  if (bias !== null) {
    if (!base.bias) throw new Error(`${base.name}: cannot merge an adapter bias into a base layer without bias`);
    base.bias.assign(bias);
  }
}

export function requireMerged(layer: { merged: boolean; base: LinearBase }): void {
  if (!layer.merged) throw new Error(`${layer.base.name}: unmerge() called but the adapter is not merged`);
}

export function requireUnmerged(layer: { merged: boolean; base: LinearBase }): void {
  if (layer.merged) throw new Error(`${layer.base.name}: merge() called but the adapter is already merged`);
}

/** Total element count of a list of tensors. */
export function countParams(vars: readonly tf.Tensor[]): number {
  return vars.reduce((n, v) => n + v.size, 0);
}

/** Check x is [N, in] for this layer before any tfjs op can fail obscurely. */
export function checkInput(base: LinearBase, x: tf.Tensor): void {
  if (x.rank !== 2 || x.shape[1] !== base.inFeatures) {
    throw new Error(`${base.name}: adapter input must be [N, ${base.inFeatures}], got [${x.shape}]`);
  }
}

/**
 * Assign adapter parameters by PEFT name (e.g. loaded from a checkpoint or a test vector). Every name must exist on the
 * layer and every shape must match; nothing is assigned unless all do.
 */
export function assignParams(layer: AdapterLayer, values: Record<string, tf.Tensor | number[] | number[][] | number[][][]>): void {
  const params = layer.params();
  const todo: [tf.Variable, tf.Tensor, boolean][] = [];
  try {
    for (const [name, v] of Object.entries(values)) {
      const target = params[name];
      if (!target) throw new Error(`${layer.base.name}: ${layer.kind} adapter has no parameter '${name}' (has: ${Object.keys(params).join(', ')})`);
      const t = v instanceof tf.Tensor ? v : tf.tensor(v as number[], undefined, 'float32');
      const owned = !(v instanceof tf.Tensor);
      if (t.shape.join(',') !== target.shape.join(',')) {
        if (owned) t.dispose();
        throw new Error(`${layer.base.name}: parameter '${name}' has shape [${target.shape}], got [${t.shape}]`);
      }
      todo.push([target, t, owned]);
    }
    for (const [target, t] of todo) {
      if (t.dtype === 'float32') target.assign(t);
      else {
        const c = tf.cast(t, 'float32');
        target.assign(c);
        c.dispose();
      }
    }
  } finally {
    for (const [, t, owned] of todo) if (owned) t.dispose();
  }
}

/** A tensor's values as a float64 matrix (sync read: init-time only). */
export function tensorToMatrix(t: tf.Tensor2D): Matrix {
  return fromArray(t.shape[0], t.shape[1], t.dataSync());
}

/** A float64 matrix as a float32 tensor. */
export function matrixToTensor(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(new Float32Array(m.data), [m.rows, m.cols]);
}
