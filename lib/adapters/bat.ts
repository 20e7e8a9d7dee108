/**
 * Bat (the paper's v1 "Bone"; PEFT MiSS init_weights='bat'): view W as r x r tiles W_pq (row block p, column block q).
 * 'out-block' (PEFT): block [out/r, r, r], ΔW_pq = W_pq B_p + B_p. 'in-block' (RWKV-PEFT): block [in/r, r, r],
 * ΔW_pq = W_pq B_q + B_q. ΔW depends on W, so every forward rebuilds W + ΔW(W) and uses it densely.
 * Unmerge inverts the tile map: W_pq = (W'_pq - B)(I + B)^-1, solved in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { fromArray, identity, addScaled, matmul } from '../linalg/matrix';
import { inverse } from '../linalg/solve';
import { matMulFast } from '../ops/linear';
import { checkInput, checkRank, checkShape, requireMerged } from './common';
import { MissBlockLayer } from './miss-block';
import type { FieldTable } from './schema';
import { AdapterConfigError, type AdapterSpec, type BatConfig, type LinearBase } from './types';

export class BatLayer extends MissBlockLayer<BatConfig, tf.Rank.R3> {
  /** block: out-block [out/r, r, r]; in-block [in/r, r, r]. */
  constructor(base: LinearBase, config: BatConfig) {
    const nb = (config.convention === 'out-block' ? base.outFeatures : base.inFeatures) / config.r;
    super(base, config, tf.zeros([nb, config.r, config.r]) as tf.Tensor3D);
  }

  /** ΔW(w) [out, in] for a weight w [out, in] (the current base weight unless given). */
  deltaFor(w: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { r } = this.config;
      const out = this.base.outFeatures;
      const inF = this.base.inFeatures;
      const P = out / r;
      const Q = inF / r;
      if (this.config.convention === 'out-block') {
        // Rows of row-block p are contiguous, so [P, r*Q, r] rows are the tile rows of W_p0..W_p(Q-1).
        const prod = tf.matMul(tf.reshape(w, [P, r * Q, r]) as tf.Tensor3D, this.block); // [P, r*Q, r]
        const plus = tf.add(tf.reshape(prod, [P, r, Q, r]), tf.reshape(this.block, [P, r, 1, r])); // + B_p on every tile
        return tf.reshape(plus, [out, inF]) as tf.Tensor2D;
      }
      const wq = tf.transpose(tf.reshape(w, [out, Q, r]), [1, 0, 2]) as tf.Tensor3D; // [Q, out, r]: column block q
      const prod = tf.transpose(tf.matMul(wq, this.block), [1, 0, 2]); // [out, Q, r]
      const bq = tf.reshape(tf.transpose(this.block, [1, 0, 2]), [1, r, Q, r]); // B_q[i, j] at [., i, q, j]
      return tf.reshape(tf.add(tf.reshape(prod, [P, r, Q, r]), bq), [out, inF]) as tf.Tensor2D;
    });
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    checkInput(this.base, x);
    return tf.tidy(() => {
      const w = this.isMerged ? this.base.weight : tf.add(this.base.weight, this.deltaFor(this.base.weight)); // [out, in]
      const y = matMulFast(x, tf.transpose(w) as tf.Tensor2D); // [N, out]
      return this.base.bias ? (tf.add(y, this.base.bias) as tf.Tensor2D) : y;
    });
  }

  deltaWeight(): tf.Tensor2D {
    return this.deltaFor(this.base.weight);
  }

  /** W_pq = (W'_pq - B)(I + B)^-1 per tile, in float64. */
  unmerge(): void {
    requireMerged(this);
    const { r, convention } = this.config;
    const out = this.base.outFeatures;
    const inF = this.base.inFeatures;
    const w = this.base.weight.dataSync();
    const blocks = this.block.dataSync();
    const nb = blocks.length / (r * r);
    const invs = Array.from({ length: nb }, (_, b) => {
      const B = fromArray(r, r, blocks.subarray(b * r * r, (b + 1) * r * r));
      try {
        return { B, inv: inverse(addScaled(identity(r), B, 1)) };
      } catch (e) {
        throw new Error(`${this.base.name}: bat unmerge needs I + block[${b}] to be invertible: ${(e as Error).message}`);
      }
    });
    const res = new Float32Array(out * inF);
    for (let p = 0; p < out / r; p++) {
      for (let q = 0; q < inF / r; q++) {
        const { B, inv } = invs[convention === 'out-block' ? p : q];
        const tile = fromArray(r, r, Array.from({ length: r * r }, (_, k) => w[(p * r + Math.floor(k / r)) * inF + q * r + (k % r)]));
        const x = matmul(addScaled(tile, B, -1), inv); // [r, r]
        for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) res[(p * r + i) * inF + q * r + j] = x.data[i * r + j];
      }
    }
    tf.tidy(() => this.base.weight.assign(tf.tensor2d(res, [out, inF])));
    this.isMerged = false;
  }

}

export const BAT_FIELDS: FieldTable<BatConfig> = {
  r: { type: 'rank' },
  convention: { type: 'enum', values: ['out-block', 'in-block'] },
};

export const BAT: AdapterSpec<BatConfig> = {
  kind: 'bat',
  defaults: { kind: 'bat', r: 64, convention: 'out-block' },
  validate(cfg, shape, where) {
    checkShape(shape, where);
    checkRank(cfg.r, where);
    if (cfg.convention !== 'out-block' && cfg.convention !== 'in-block') {
      throw new AdapterConfigError(`${where}: bat 'convention' must be 'out-block' or 'in-block', got ${String(cfg.convention)}`);
    }
    if (shape.in % cfg.r !== 0 || shape.out % cfg.r !== 0) {
      throw new AdapterConfigError(
        `${where}: bat needs r to divide both dimensions, got r=${cfg.r} with out_features=${shape.out}, in_features=${shape.in} ` +
          `(The weight matrix must be fully divisible into [r, r] blocks.)`,
      );
    }
  },
  numParams(cfg, shape) {
    return (cfg.convention === 'out-block' ? shape.out : shape.in) * cfg.r;
  },
  create(base, cfg) {
    return new BatLayer(base, cfg);
  },
};
