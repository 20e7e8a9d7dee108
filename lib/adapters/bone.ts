/**
 * Bone (Kang 2024; PEFT MiSS default, `kind: 'bone'`) and MiSS mini (`kind: 'mini'`): a block D [r, out] shared by every
 * r-wide chunk of the input, ΔW[o, i] = D[i mod r, o]. mini stores [r, mini_r] and tiles it along out:
 * D[j, o] = block[j, o mod mini_r]. Forward never forms ΔW: x is zero-padded to a multiple of r, folded to
 * [N, in/r, r] and summed over chunks (S [N, r]), then S @ D. Works for any in (padding), any out, and r > in
 * (ΔW = D^T[:, :in]; merge works there too, unlike PEFT's reshape crash).
 */
import * as tf from '@tensorflow/tfjs';
import { baseForward, matMulFast } from '../ops/linear';
import { checkInput, checkRank, checkShape, commitMerge, countParams, requireMerged, requireUnmerged, toVariable } from './common';
import type { FieldTable } from './schema';
import { AdapterConfigError, type AdapterLayer, type AdapterSpec, type BoneConfig, type LinearBase, type MiniConfig } from './types';

export type BoneFamilyConfig = BoneConfig | MiniConfig;

export class BoneLayer<C extends BoneFamilyConfig = BoneConfig> implements AdapterLayer<C> {
  readonly kind: C['kind'];
  /** bone: D [r, out]; mini: [r, mini_r]. */
  readonly block: tf.Variable<tf.Rank.R2>;
  private isMerged = false;
  private readonly chunks: number;
  /** How many times the mini block repeats along out (1 for bone). */
  private readonly reps: number;

  constructor(
    readonly base: LinearBase,
    readonly config: C,
  ) {
    this.kind = config.kind;
    const width = config.kind === 'mini' ? config.miniR : base.outFeatures;
    this.block = toVariable(tf.zeros([config.r, width]) as tf.Tensor2D);
    this.chunks = Math.ceil(base.inFeatures / config.r);
    this.reps = base.outFeatures / width;
  }

  get merged(): boolean {
    return this.isMerged;
  }

  /** Sum of the r-wide chunks of zero-padded x: [N, in] -> [N, r]. */
  fold(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { r } = this.config;
      const pad = this.chunks * r - this.base.inFeatures;
      const xp = pad > 0 ? tf.pad(x, [[0, 0], [0, pad]]) : x; // [N, chunks * r]
      return tf.sum(tf.reshape(xp, [x.shape[0], this.chunks, r]), 1) as tf.Tensor2D; // [N, r]
    });
  }

  /** The full block D [r, out] (mini: the stored block tiled along out). */
  fullBlock(): tf.Tensor2D {
    return tf.tidy(() => (this.reps > 1 ? tf.tile(this.block, [1, this.reps]) : tf.clone(this.block)) as tf.Tensor2D);
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    checkInput(this.base, x);
    return tf.tidy(() => {
      const y = baseForward(this.base, x); // [N, out]
      if (this.isMerged) return y;
      // mini: tile the small block to D [r, out] (cheap, and its gradient sums r x mini_r tiles), not the output.
      const d = this.reps > 1 ? (tf.tile(this.block, [1, this.reps]) as tf.Tensor2D) : this.block; // [r, out]
      return tf.add(y, matMulFast(this.fold(x), d)) as tf.Tensor2D; // + S D, S [N, r]
    });
  }

  /** ΔW[o, i] = D[i mod r, o]: D^T tiled along in, cut to in columns. [out, in] */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const dt = tf.transpose(this.fullBlock()); // [out, r]
      const tiled = this.chunks > 1 ? tf.tile(dt, [1, this.chunks]) : dt; // [out, chunks * r]
      return tf.slice(tiled, [0, 0], [this.base.outFeatures, this.base.inFeatures]) as tf.Tensor2D;
    });
  }

  mergedWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.add(this.base.weight, this.deltaWeight()) as tf.Tensor2D);
  }

  merge(opts: { safe?: boolean } = {}): void {
    requireUnmerged(this);
    tf.tidy(() => commitMerge(this.base, this.mergedWeight(), null, opts.safe ?? false));
    this.isMerged = true;
  }

  unmerge(): void {
    requireMerged(this);
    tf.tidy(() => this.base.weight.assign(tf.sub(this.base.weight, this.deltaWeight()) as tf.Tensor2D));
    this.isMerged = false;
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

  dispose(): void {
    this.block.dispose();
  }
}

export const BONE_FIELDS: FieldTable<BoneConfig> = { r: { type: 'rank' } };
export const MINI_FIELDS: FieldTable<MiniConfig> = { r: { type: 'rank' }, miniR: { type: 'posint' } };

export const BONE: AdapterSpec<BoneConfig> = {
  kind: 'bone',
  defaults: { kind: 'bone', r: 64 },
  validate(cfg, shape, where) {
    checkShape(shape, where);
    checkRank(cfg.r, where);
  },
  numParams(cfg, shape) {
    return cfg.r * shape.out;
  },
  create(base, cfg) {
    return new BoneLayer(base, cfg);
  },
};

export const MINI: AdapterSpec<MiniConfig> = {
  kind: 'mini',
  defaults: { kind: 'mini', r: 64, miniR: 1 },
  validate(cfg, shape, where) {
    checkShape(shape, where);
    checkRank(cfg.r, where);
    if (typeof cfg.miniR !== 'number' || !Number.isInteger(cfg.miniR) || cfg.miniR <= 0) {
      throw new AdapterConfigError(`${where}: mini 'miniR' (mini_r) must be a positive integer, got ${String(cfg.miniR)}`);
    }
    if (shape.out % cfg.miniR !== 0) {
      throw new AdapterConfigError(
        `${where}: mini_r=${cfg.miniR} must divide out_features=${shape.out} (the [r, mini_r] block is tiled along out_features; ${shape.out} % ${cfg.miniR} = ${shape.out % cfg.miniR})`,
      );
    }
  },
  numParams(cfg) {
    return cfg.r * cfg.miniR;
  },
  create(base, cfg) {
    return new BoneLayer(base, cfg);
  },
};
