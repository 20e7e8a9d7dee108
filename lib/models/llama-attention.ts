/**
 * LLaMA self-attention (HF LlamaAttention): q/k/v projections, rotary embeddings, grouped-query attention, causal
 * (optionally sliding-window) softmax attention, o projection; with an optional key/value cache for decoding.
 * GQA never materialises repeated keys: the n_rep query heads that share a kv head are stacked along the query axis,
 * so one batched product per kv head covers them all.
 */
import * as tf from '@tensorflow/tfjs';
import type { Linear } from './types';

/** Cached keys and values of one layer: keys already transposed for the score product. */
export interface LayerKV {
  k: tf.Tensor4D; // [B, KVH, hd, Tk]
  v: tf.Tensor4D; // [B, KVH, Tk, hd]
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

/** Rotary tables for the T new positions, shaped [T, 1, hd] to broadcast over [B, T, heads, hd]. */
export interface RopeSlice {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
  qcos: tf.Tensor3D;
  qsin: tf.Tensor3D;
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

/** x rotated by tables broadcastable to it (hd last): x cos + swap_halves(x) sinSigned. */
function rotate(x: tf.Tensor4D, cos: tf.Tensor, sinSigned: tf.Tensor): tf.Tensor4D {
  const [a, b, c, hd] = x.shape;
  const swapped = tf.reshape(tf.reverse(tf.reshape(x, [a, b, c, 2, hd / 2]), 3), [a, b, c, hd]); // [x2, x1]
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
  const q0 = tf.reshape(mods.q.apply(x), [B, T, H, hd]) as tf.Tensor4D; // [B, T, H, hd]
  const k0 = tf.reshape(mods.k.apply(x), [B, T, KVH, hd]) as tf.Tensor4D; // [B, T, KVH, hd]
  const v0 = tf.reshape(mods.v.apply(x), [B, T, KVH, hd]) as tf.Tensor4D; // [B, T, KVH, hd]
  // queries carry the 1/sqrt(hd) softmax scale in their rotary tables
  const q = tf.reshape(tf.transpose(rotate(q0, rope.qcos, rope.qsin), [0, 2, 1, 3]), [B, KVH, rep * T, hd]) as tf.Tensor4D; // [B, KVH, rep*T, hd]
  const kNew = tf.transpose(rotate(k0, rope.cos, rope.sin), [0, 2, 3, 1]) as tf.Tensor4D; // [B, KVH, hd, T]
  const vNew = tf.transpose(v0, [0, 2, 1, 3]) as tf.Tensor4D; // [B, KVH, T, hd]
  const k = past ? (tf.concat([past.k, kNew], 3) as tf.Tensor4D) : kNew; // [B, KVH, hd, Tk]
  const v = past ? (tf.concat([past.v, vNew], 2) as tf.Tensor4D) : vNew; // [B, KVH, Tk, hd]
  const Tk = k.shape[3];
  let scores = tf.matMul(q, k) as tf.Tensor4D; // [B, KVH, rep*T, Tk]
  if (mask) scores = tf.reshape(tf.add(tf.reshape(scores, [B, KVH, rep, T, Tk]), mask), [B, KVH, rep * T, Tk]);
  const probs = tf.softmax(scores); // [B, KVH, rep*T, Tk]
  const ctx = tf.reshape(tf.matMul(probs, v), [B, H, T, hd]); // [B, H, T, hd]
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D; // [B*T, H*hd]
  return { out: mods.o.apply(merged), kv: { k, v } };
}
