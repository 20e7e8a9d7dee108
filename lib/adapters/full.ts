/**
 * Full fine-tuning as an adapter kind, so runs compare every method through one interface: the base weight and bias
 * become trainable, the forward is the plain base layer, ΔW is zero and merge/unmerge change nothing.
 * Parameter count: out * in, plus out when the layer has a bias (the bias is trained too); pass shape.bias.
 */
import * as tf from '@tensorflow/tfjs';
import { baseForward } from '../ops/linear';
import { allFinite, checkInput, checkShape, countParams, requireMerged, requireUnmerged } from './common';
import type { FieldTable } from './schema';
import type { AdapterLayer, AdapterSpec, FullConfig, LinearBase } from './types';

export class FullLayer implements AdapterLayer<FullConfig> {
  readonly kind = 'full' as const;
  private isMerged = false;
  private readonly wasTrainable: [boolean, boolean];

  constructor(
    readonly base: LinearBase,
    readonly config: FullConfig,
  ) {
    this.wasTrainable = [base.weight.trainable, base.bias?.trainable ?? false];
    base.weight.trainable = true;
    if (base.bias) base.bias.trainable = true;
  }

  get merged(): boolean {
    return this.isMerged;
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    checkInput(this.base, x);
    return baseForward(this.base, x);
  }

  deltaWeight(): tf.Tensor2D {
    return tf.zerosLike(this.base.weight);
  }

  mergedWeight(): tf.Tensor2D {
    return tf.clone(this.base.weight);
  }

  /** Nothing to write; safe still refuses a non-finite weight, as it would for any other adapter. */
  merge(opts: { safe?: boolean } = {}): void {
    requireUnmerged(this);
    if (opts.safe && (!allFinite(this.base.weight) || (this.base.bias && !allFinite(this.base.bias)))) {
      throw new Error(`${this.base.name}: NaNs or infinities detected in the fully fine-tuned weights (nothing merged)`);
    }
    this.isMerged = true;
  }

  unmerge(): void {
    requireMerged(this);
    this.isMerged = false;
  }

  trainableVariables(): tf.Variable[] {
    return this.base.bias ? [this.base.weight, this.base.bias] : [this.base.weight];
  }

  /** The base tensors under their state-dict names (a full fine-tune saves the whole module). */
  params(): Record<string, tf.Variable> {
    return this.base.bias ? { weight: this.base.weight, bias: this.base.bias } : { weight: this.base.weight };
  }

  numTrainableParams(): number {
    return countParams(this.trainableVariables());
  }

  /** Restores the base's trainable flags; the base tensors belong to the model and are not disposed. */
  dispose(): void {
    this.base.weight.trainable = this.wasTrainable[0];
    if (this.base.bias) this.base.bias.trainable = this.wasTrainable[1];
  }
}

export const FULL_FIELDS: FieldTable<FullConfig> = {};

export const FULL: AdapterSpec<FullConfig> = {
  kind: 'full',
  defaults: { kind: 'full' },
  validate(_cfg, shape, where) {
    checkShape(shape, where);
  },
  numParams(_cfg, shape) {
    return shape.out * shape.in + (shape.bias ? shape.out : 0);
  },
  create(base, cfg) {
    return new FullLayer(base, cfg);
  },
};
