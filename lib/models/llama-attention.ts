/**
 * LLaMA self-attention (HF LlamaAttention): q/k/v projections, rotary embeddings, grouped-query attention, causal
 * (optionally sliding-window) softmax attention, o projection; with an optional key/value cache for decoding.
 * The per-head products run as grouped depthwise products (grouped-matmul.ts) over G = batch x kv-head groups; the
 * rep query heads sharing a kv head are stacked along the query axis, so repeated keys are never materialised.
 */
import * as tf from '@tensorflow/tfjs';
import { linearFrozen } from '../ops/linear';
import { groupedMatMul } from './grouped-matmul';
import type { Linear } from './types';

/** Cached keys and values of one layer, in the grouped-product layouts (G = batch x kv heads). */
export interface LayerKV {
  k: tf.Tensor3D; // [hd, G, Tk]
  v: tf.Tensor3D; // [Tk, G, hd]
}

export interface AttentionModules {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
}

export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** Rotary tables for the T new positions, shaped [T, 1, hd] to broadcast over [B, T, heads, hd], and the half swap. */
export interface RopeSlice {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
  qcos: tf.Tensor3D;
  qsin: tf.Tensor3D;
  /** [hd, hd] permutation exchanging the two halves of the head dimension. */
  swap: tf.Tensor2D;
}

const MASKED = -1e9; // exp(-1e9 - max) is exactly 0 in float32, and unlike -Infinity it cannot make NaN in gradients

/**
 * Additive mask [T, Tk] for T queries at absolute positions Tk-T .. Tk-1 over Tk keys: 0 where key j is visible
 * (j <= query position, and within the sliding window if any), MASKED elsewhere. null when every key is visible.
 */
export function attentionMask(T: number, Tk: number, slidingWindow: number | null): Float32Array | null {
  const m = new Float32Array(T * Tk);
  let any = false;
  for (let i = 0; i < T; i++) {
    const pos = Tk - T + i;
    for (let j = 0; j < Tk; j++) {
      const hidden = j > pos || (slidingWindow !== null && pos - j >= slidingWindow);
      if (hidden) {
        m[i * Tk + j] = MASKED;
        any = true;
      }
    }
  }
  return any ? m : null;
}

/**
 * x [.., hd] rotated by tables broadcastable to it: x cos + swap_halves(x) sinSigned. The half swap is a product with
 * a constant permutation matrix (its own inverse and transpose): on wasm that is ~15x faster than tf.reverse or
 * slice + concat, forward and backward.
 */
function rotate(x: tf.Tensor4D, cos: tf.Tensor, sinSigned: tf.Tensor, swap: tf.Tensor2D): tf.Tensor4D {
  const hd = x.shape[3];
  const swapped = tf.reshape(linearFrozen(tf.reshape(x, [-1, hd]) as tf.Tensor2D, swap, swap), x.shape); // [x2, x1]
  return tf.add(tf.mul(x, cos), tf.mul(swapped, sinSigned)) as tf.Tensor4D;
}

/**
 * One attention block for x [B*T, C] (rows batch-major). `mask` is [T, Tk] or null; `past` the cached keys/values of
 * earlier positions. Returns the output [B*T, C] and the keys/values including the new positions.
 */
export function selfAttention(
  mods: AttentionModules,
  s: AttentionShape,
  x: tf.Tensor2D,
  B: number,
  T: number,
  rope: RopeSlice,
  mask: tf.Tensor2D | null,
  past: LayerKV | null,
): { out: tf.Tensor2D; kv: LayerKV } {
  const { numHeads: H, numKvHeads: KVH, headDim: hd } = s;
  const rep = H / KVH;
  const G = B * KVH;
  const q0 = tf.reshape(mods.q.apply(x), [B, T, H, hd]) as tf.Tensor4D; // [B, T, H, hd]
  const k0 = tf.reshape(mods.k.apply(x), [B, T, KVH, hd]) as tf.Tensor4D; // [B, T, KVH, hd]
  const v0 = tf.reshape(mods.v.apply(x), [B, T, KVH, hd]); // [B, T, KVH, hd]
  // queries carry the 1/sqrt(hd) softmax scale in their rotary tables; head h = kv * rep + r (HF repeat_kv)
  const qr = tf.reshape(rotate(q0, rope.qcos, rope.qsin, rope.swap), [B, T, KVH, rep, hd]);
  const q = tf.reshape(tf.transpose(qr, [3, 1, 4, 0, 2]), [rep * T, hd, G]) as tf.Tensor3D; // [rep*T, hd, G]
  const kNew = tf.reshape(tf.transpose(rotate(k0, rope.cos, rope.sin, rope.swap), [3, 0, 2, 1]), [hd, G, T]) as tf.Tensor3D; // [hd, G, T]
  const vNew = tf.reshape(tf.transpose(v0, [1, 0, 2, 3]), [T, G, hd]) as tf.Tensor3D; // [T, G, hd]
  const k = past ? (tf.concat([past.k, kNew], 2) as tf.Tensor3D) : kNew; // [hd, G, Tk]
  const v = past ? (tf.concat([past.v, vNew], 0) as tf.Tensor3D) : vNew; // [Tk, G, hd]
  const Tk = v.shape[0];
  let scores = groupedMatMul(q, k); // [rep*T, G, Tk]
  if (mask) scores = tf.reshape(tf.add(tf.reshape(scores, [rep, T, G, Tk]), tf.reshape(mask, [T, 1, Tk])), [rep * T, G, Tk]);
  const probs = tf.transpose(tf.softmax(scores), [0, 2, 1]) as tf.Tensor3D; // [rep*T, Tk, G]
  const ctx = tf.reshape(groupedMatMul(probs, v), [rep, T, B, KVH, hd]); // [rep, T, B, KVH, hd]
  const merged = tf.reshape(tf.transpose(ctx, [2, 1, 3, 0, 4]), [B * T, H * hd]) as tf.Tensor2D; // [B*T, H*hd]
  return { out: mods.o.apply(merged), kv: { k, v } };
}
