/**
 * Bone (Kang 2024; PEFT MiSS default, `kind: 'bone'`) and MiSS mini (`kind: 'mini'`): a block D [r, out] shared by every
 * r-wide chunk of the input, ΔW[o, i] = D[i mod r, o]. mini stores [r, mini_r] and tiles it along out:
 * D[j, o] = block[j, o mod mini_r]. Forward never forms ΔW: x is zero-padded to a multiple of r, folded to
 * [N, in/r, r] and summed over chunks (S [N, r]), then S @ D. Works for any in (padding), any out, and r > in
 * (ΔW = D^T[:, :in]; merge works there too, unlike PEFT's reshape crash).
 * The chunk sum runs as one product with a constant 0/1 matrix F [in, r] (F[i, i mod r] = 1): on wasm a plain matMul
 * beats reshape + reduce over the middle axis (which transposes first), and its backward is one product with F^T.
 */
import * as tf from '@tensorflow/tfjs';
import { baseForward, linearFrozen, matMulFast } from '../ops/linear';
import { checkInput, checkRank, checkShape, requireMerged } from './common';
import { MissBlockLayer } from './miss-block';
import type { FieldTable } from './schema';
import { AdapterConfigError, type AdapterSpec, type BoneConfig, type LinearBase, type MiniConfig } from './types';

export type BoneFamilyConfig = BoneConfig | MiniConfig;

/**
 * Fold matrices F [in, r] and F^T [r, in], shared by every layer with the same (in, r) and reference-counted: a 7B
 * model has two such shapes, not one copy per layer.
 */
const FOLDS = new Map<string, { f: tf.Tensor2D; ft: tf.Tensor2D; users: number }>();

function acquireFold(inF: number, r: number): { f: tf.Tensor2D; ft: tf.Tensor2D } {
  const key = `${inF}x${r}`;
  let e = FOLDS.get(key);
  if (!e) {
    const data = new Float32Array(inF * r);
    for (let i = 0; i < inF; i++) data[i * r + (i % r)] = 1;
    // kept: a layer may be built inside a caller's tidy, and the constant outlives it
    const f = tf.keep(tf.tensor2d(data, [inF, r])); // [in, r]
    e = { f, ft: tf.keep(tf.transpose(f)), users: 0 }; // ft [r, in]
    FOLDS.set(key, e);
  }
  e.users++;
  return e;
}

function releaseFold(inF: number, r: number): void {
  const key = `${inF}x${r}`;
  const e = FOLDS.get(key);
  if (!e || --e.users > 0) return;
  e.f.dispose();
  e.ft.dispose();
  FOLDS.delete(key);
}

export class BoneLayer<C extends BoneFamilyConfig = BoneConfig> extends MissBlockLayer<C, tf.Rank.R2> {
  private readonly chunks: number;
  /** How many times the mini block repeats along out (1 for bone). */
  private readonly reps: number;
  private readonly foldMats: { f: tf.Tensor2D; ft: tf.Tensor2D };

  /** bone: block D [r, out]; mini: [r, mini_r]. */
  constructor(base: LinearBase, config: C) {
    super(base, config, tf.zeros([config.r, config.kind === 'mini' ? config.miniR : base.outFeatures]) as tf.Tensor2D);
    this.chunks = Math.ceil(base.inFeatures / config.r);
    this.reps = base.outFeatures / this.block.shape[1];
    this.foldMats = acquireFold(base.inFeatures, config.r);
  }

  /** Sum of the r-wide chunks of zero-padded x: [N, in] -> [N, r], as x F (gradient dS F^T). */
  fold(x: tf.Tensor2D): tf.Tensor2D {
    return linearFrozen(x, this.foldMats.ft, this.foldMats.f); // [N, in] x [in, r]
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

  unmerge(): void {
    requireMerged(this);
    tf.tidy(() => this.base.weight.assign(tf.sub(this.base.weight, this.deltaWeight()) as tf.Tensor2D));
    this.isMerged = false;
  }

  protected release(): void {
    releaseFold(this.base.inFeatures, this.config.r);
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
