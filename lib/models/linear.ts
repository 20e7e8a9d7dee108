/** The linear layer every model family uses: a frozen PyTorch-layout base plus an optional adapter. */
import * as tf from '@tensorflow/tfjs';
import type { AdapterLayer } from '../adapters/types';
import { baseForward } from '../ops/linear';
import type { Linear } from './types';

export class LinearLayer implements Linear {
  adapter: AdapterLayer | null = null;
  readonly outFeatures: number;
  readonly inFeatures: number;
  constructor(
    readonly name: string,
    readonly weight: tf.Variable<tf.Rank.R2>,
    readonly bias: tf.Variable<tf.Rank.R1> | null = null,
  ) {
    if (weight.rank !== 2) throw new Error(`${name}: weight must be 2-D [out, in], got shape [${weight.shape}]`);
    [this.outFeatures, this.inFeatures] = weight.shape;
    if (bias && bias.shape[0] !== this.outFeatures)
      throw new Error(`${name}: bias has shape [${bias.shape}] but out_features is ${this.outFeatures}`);
  }

  /** x [N, in] -> [N, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.inFeatures)
      throw new Error(`${this.name}: input has ${x.shape[1]} features but in_features is ${this.inFeatures}`);
    return this.adapter ? this.adapter.forward(x) : baseForward(this, x);
  }

  dispose(): void {
    this.adapter?.dispose();
    this.adapter = null;
    this.weight.dispose();
    this.bias?.dispose();
  }
}

/** Build a frozen linear from [out, in] data (and optional bias [out]). */
export function createLinear(name: string, weight: tf.Tensor2D, bias?: tf.Tensor1D | null): LinearLayer {
  return new LinearLayer(name, tf.variable(weight, false) as tf.Variable<tf.Rank.R2>, bias ? (tf.variable(bias, false) as tf.Variable<tf.Rank.R1>) : null);
}
