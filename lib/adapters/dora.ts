/**
 * DoRA (Liu et al. 2024) as PEFT's DoraLinearVariant: LoRA plus a magnitude m [out], initialised to the row norms of
 * W + s B A. Forward: y = b + (m / n) ⊙ (x W^T + s x A^T B^T) with n = ||W + s B A|| per output row, treated as a
 * constant (no gradient flows through n). Merge writes (m / n')[:, None] ⊙ (W + s B A) and caches n' for unmerge.
 */
import * as tf from '@tensorflow/tfjs';
import { linearFrozen } from '../ops/linear';
import { checkInput, commitMerge, requireMerged, requireUnmerged, toVariable } from './common';
import { LORA_COMMON_FIELDS, LoraLayer, loraInitValues, validateLoraCommon, type LoraInit } from './lora';
import type { FieldTable } from './schema';
import type { AdapterSpec, DoraConfig, LinearBase } from './types';

type GradFn = Parameters<typeof tf.customGrad>[0];

/** ||W + s B A||_2 over in_features, one value per output row: [out]. */
function rowNorm(w: tf.Tensor2D, A: tf.Tensor2D, B: tf.Tensor2D, s: number): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.add(w, tf.mul(tf.matMul(B, A), s))), 1)) as tf.Tensor1D);
}

export class DoraLayer extends LoraLayer<DoraConfig> {
  readonly magnitude: tf.Variable<tf.Rank.R1>; // [out]
  private cachedNorm: tf.Tensor1D | null = null;
  /** The weight norm as a constant: its gradient with respect to A and B is zero (PEFT detaches it). */
  private readonly detachedNorm: (A: tf.Tensor2D, B: tf.Tensor2D) => tf.Tensor1D;

  constructor(base: LinearBase, cfg: DoraConfig, init: LoraInit) {
    super(base, cfg, init);
    this.magnitude = toVariable(rowNorm(base.weight, this.A, this.B, this.scaling));
    this.detachedNorm = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([]);
      return {
        value: rowNorm(this.base.weight, a as tf.Tensor2D, b as tf.Tensor2D, this.scaling),
        gradFunc: () => [tf.zerosLike(a), tf.zerosLike(b)],
      };
    }) as unknown as GradFn) as unknown as (A: tf.Tensor2D, B: tf.Tensor2D) => tf.Tensor1D;
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    checkInput(this.base, x);
    return tf.tidy(() => {
      if (this.isMerged) return super.forward(x);
      const f = tf.div(this.magnitude, this.detachedNorm(this.A, this.B)); // [out]
      const lin = tf.add(linearFrozen(x, this.base.weight), this.loraTerm(x)); // [N, out]
      const y = tf.mul(lin, f) as tf.Tensor2D; // [N, out]
      return this.base.bias ? (tf.add(y, this.base.bias) as tf.Tensor2D) : y;
    });
  }

  /** The current weight norm n = ||W + s B A|| per output row [out]. */
  weightNorm(): tf.Tensor1D {
    return rowNorm(this.base.weight, this.A, this.B, this.scaling);
  }

  /** (m / n)[:, None] ⊙ (W + s B A), [out, in]. */
  mergedWeight(): tf.Tensor2D {
    return tf.tidy(() => this.rescale(tf.add(this.base.weight, this.deltaWeight()) as tf.Tensor2D, this.weightNorm()));
  }

  private rescale(w: tf.Tensor2D, norm: tf.Tensor1D): tf.Tensor2D {
    return tf.mul(w, tf.reshape(tf.div(this.magnitude, norm), [-1, 1])) as tf.Tensor2D; // [out, in]
  }

  merge(opts: { safe?: boolean } = {}): void {
    requireUnmerged(this);
    const norm = this.weightNorm(); // n' at merge time, cached for unmerge
    try {
      tf.tidy(() => commitMerge(this.base, this.rescale(tf.add(this.base.weight, this.deltaWeight()) as tf.Tensor2D, norm), null, opts.safe ?? false));
    } catch (e) {
      norm.dispose();
      throw e;
    }
    this.cachedNorm = norm;
    this.isMerged = true;
  }

  unmerge(): void {
    requireMerged(this);
    const norm = this.cachedNorm;
    if (!norm) throw new Error(`${this.base.name}: DoRA unmerge needs the weight norm cached by merge(), and there is none`);
    tf.tidy(() => {
      const factor = tf.reshape(tf.div(this.magnitude, norm), [-1, 1]); // [out, 1]
      this.base.weight.assign(tf.sub(tf.div(this.base.weight, factor), this.deltaWeight()) as tf.Tensor2D);
    });
    norm.dispose();
    this.cachedNorm = null;
    this.isMerged = false;
  }

  trainableVariables(): tf.Variable[] {
    return [this.A, this.B, this.magnitude];
  }

  params(): Record<string, tf.Variable> {
    return { lora_A: this.A, lora_B: this.B, lora_magnitude_vector: this.magnitude };
  }

  dispose(): void {
    super.dispose();
    this.magnitude.dispose();
    this.cachedNorm?.dispose();
    this.cachedNorm = null;
  }
}

export const DORA_FIELDS: FieldTable<DoraConfig> = { ...LORA_COMMON_FIELDS };

export const DORA: AdapterSpec<DoraConfig> = {
  kind: 'dora',
  defaults: { kind: 'dora', r: 8, alpha: 8, rslora: false },
  validate(cfg, shape, where) {
    validateLoraCommon(cfg, shape, where);
  },
  numParams(cfg, shape) {
    return cfg.r * (shape.in + shape.out) + shape.out;
  },
  create(base, cfg, ctx) {
    const init = loraInitValues(base, { kind: 'lora', r: cfg.r, alpha: cfg.alpha, rslora: cfg.rslora, init: 'kaiming', loraBias: false }, ctx.seed);
    return new DoraLayer(base, cfg, init);
  },
};
