/**
 * Rotary position embeddings in HF's rotate-half layout: x' = x cos + rotate_half(x) sin, with rotate_half(x) =
 * [-x2, x1] over the two halves of the head dimension and the frequencies duplicated across both halves.
 * This file holds the tables; the rotation is in llama-attention.ts. Frequencies and angles are rounded to float32 as
 * HF computes them, so long positions match HF's fp32 forward.
 */
import * as tf from '@tensorflow/tfjs';
import type { RopeSlice } from './llama-attention';
import type { RopeScaling } from './llama-config';

/** HF's inverse frequencies (default, linear and llama3 rope types), one per pair of dimensions. */
export function ropeInvFreq(headDim: number, theta: number, scaling: RopeScaling): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / headDim))));
  if (scaling.type === 'linear') for (let i = 0; i < half; i++) inv[i] = Math.fround(inv[i] / scaling.factor);
  if (scaling.type === 'llama3') {
    const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositionEmbeddings: ctx } = scaling;
    const lowWavelen = ctx / lo;
    const highWavelen = ctx / hi;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] = inv[i] / factor; // long wavelengths: interpolate fully
      else if (wavelen >= highWavelen) {
        const smooth = (ctx / wavelen - lo) / (hi - lo); // medium: blend the scaled and unscaled frequency
        inv[i] = (1 - smooth) * (inv[i] / factor) + smooth * inv[i];
      }
      inv[i] = Math.fround(inv[i]);
    }
  }
  return inv;
}

/**
 * cos and signed sin tables for positions [0, n): cos [n, hd] = cos(pos f) over both halves; sinSigned [n, hd] =
 * [-sin, +sin], so rotate_half(x) sin = swap_halves(x) sinSigned. `scale` multiplies both (the query's 1/sqrt(hd)).
 */
export function ropeTables(invFreq: Float64Array, n: number, scale = 1): { cos: Float32Array; sinSigned: Float32Array } {
  const half = invFreq.length;
  const hd = 2 * half;
  const cos = new Float32Array(n * hd);
  const sinSigned = new Float32Array(n * hd);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(p * invFreq[i]);
      const c = Math.fround(Math.cos(a)) * scale;
      const s = Math.fround(Math.sin(a)) * scale;
      cos[p * hd + i] = cos[p * hd + half + i] = c;
      sinSigned[p * hd + i] = -s;
      sinSigned[p * hd + half + i] = s;
    }
  }
  return { cos, sinSigned };
}

/** The [hd, hd] permutation matrix that exchanges the two halves of a vector (symmetric: its own transpose). */
export function halfSwap(hd: number): Float32Array {
  const m = new Float32Array(hd * hd);
  const h = hd / 2;
  for (let i = 0; i < hd; i++) m[i * hd + ((i + h) % hd)] = 1;
  return m;
}

/** Kept cos/sin tables, grown on demand (positions beyond max_position_embeddings work as in HF). */
export class RopeCache {
  private n = 0;
  private tables: { cos: tf.Tensor2D; sin: tf.Tensor2D; qcos: tf.Tensor2D; qsin: tf.Tensor2D; swap: tf.Tensor2D } | null = null;
  private readonly invFreq: Float64Array;
  constructor(
    readonly headDim: number,
    theta: number,
    scaling: RopeScaling,
    /** Extra factor folded into the query tables (the attention scale 1/sqrt(head_dim)). */
    private readonly queryScale: number,
  ) {
    this.invFreq = ropeInvFreq(headDim, theta, scaling);
  }

  /**
   * Tables for positions [start, start + len), shaped [len, 1, hd] to broadcast over [B, T, heads, hd]: cos/sin for
   * keys and the pre-scaled qcos/qsin for queries.
   */
  slice(start: number, len: number): RopeSlice {
    if (start + len > this.n) this.grow(Math.max(start + len, 2 * this.n, 64));
    const t = this.tables!;
    const cut = (x: tf.Tensor2D) => tf.reshape(tf.slice(x, [start, 0], [len, this.headDim]), [len, 1, this.headDim]) as tf.Tensor3D;
    return { cos: cut(t.cos), sin: cut(t.sin), qcos: cut(t.qcos), qsin: cut(t.qsin), swap: t.swap };
  }

  private grow(n: number): void {
    this.dispose();
    const k = ropeTables(this.invFreq, n);
    const q = ropeTables(this.invFreq, n, this.queryScale);
    const hd = this.headDim;
    // keep: grow() usually runs inside a forward's tf.tidy, which must not dispose the cache
    this.tables = {
      cos: tf.keep(tf.tensor2d(k.cos, [n, hd])),
      sin: tf.keep(tf.tensor2d(k.sinSigned, [n, hd])),
      qcos: tf.keep(tf.tensor2d(q.cos, [n, hd])),
      qsin: tf.keep(tf.tensor2d(q.sinSigned, [n, hd])),
      swap: tf.keep(tf.tensor2d(halfSwap(hd), [hd, hd])),
    };
    this.n = n;
  }

  dispose(): void {
    if (this.tables) tf.dispose(Object.values(this.tables));
    this.tables = null;
    this.n = 0;
  }
}
