/**
 * What Bone/mini and Bat share: one trainable block saved under PEFT MiSS's name `miss_block`, a merged flag, and merge
 * by writing W + ΔW. Subclasses supply the forward, ΔW and the inverse of merge.
 */
import * as tf from '@tensorflow/tfjs';
import { commitMerge, countParams, requireUnmerged, toVariable } from './common';
import type { AdapterConfig, AdapterLayer, LinearBase } from './types';

export abstract class MissBlockLayer<C extends AdapterConfig, R extends tf.Rank> implements AdapterLayer<C> {
  readonly kind: C['kind'];
  readonly block: tf.Variable<R>;
  protected isMerged = false;
  private disposed = false;

  constructor(
    readonly base: LinearBase,
    readonly config: C,
    init: tf.Tensor<R>,
  ) {
    this.kind = config.kind;
    this.block = toVariable(init);
  }

  get merged(): boolean {
    return this.isMerged;
  }

  abstract forward(x: tf.Tensor2D): tf.Tensor2D;
  abstract deltaWeight(): tf.Tensor2D;
  abstract unmerge(): void;

  mergedWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.add(this.base.weight, this.deltaWeight()) as tf.Tensor2D);
  }

  merge(opts: { safe?: boolean } = {}): void {
    requireUnmerged(this);
    tf.tidy(() => commitMerge(this.base, this.mergedWeight(), null, opts.safe ?? false));
    this.isMerged = true;
  }

  trainableVariables(): tf.Variable[] {
    return [this.block];
  }

  params(): Record<string, tf.Variable> {
    return { miss_block: this.block };
  }

  numTrainableParams(): number {
    return countParams(this.trainableVariables());
  }

  /** Extra resources a subclass holds (released once, on the first dispose). */
  protected release(): void {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.block.dispose();
    this.release();
  }
}
