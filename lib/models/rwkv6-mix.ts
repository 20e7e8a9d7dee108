/**
 * The two RWKV6 (x060) mixers of a block and their normalisations, as pure functions of a block's parameters.
 * Both take an optional previous token (the recurrent token-shift state) so the same code serves the full-sequence
 * forward and O(1)-per-token generation.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulFast } from '../ops/linear';
import type { Linear } from './types';
import { wkv6, type WkvMode } from './rwkv6-wkv';

type GradFn = Parameters<typeof tf.customGrad>[0];

/** A block's parameters by their name inside the block (`att.time_maa_x`, `ffn.key`, ...). */
export interface BlockParams {
  get(name: string): tf.Variable;
  linear(name: string): Linear;
}

export interface MixDims {
  C: number;
  A: number;
  H: number;
  N: number;
  dMix: number;
  /** ln_x (GroupNorm) eps. */
  lnxEps: number;
}

export interface WkvOptions {
  mode: WkvMode;
  chunkLen: number;
}

/** x [M, k] times a frozen matrix W [k, n]: the backward computes only dx = dy W^T (explicit transpose, plain product). */
function matMulConst(x: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([W]);
    return {
      value: tf.matMul(xi as tf.Tensor2D, W), // [M, n]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[0] as tf.Tensor2D))], // [M, k]
    };
  }) as unknown as GradFn);
  return f(x) as tf.Tensor2D;
}

/** x [M, k] @ W [k, n] for a mixer parameter (or a slice of one); W gets a gradient only when trainable. */
export function paramMatMul(x: tf.Tensor2D, W: tf.Tensor2D, trainable: boolean): tf.Tensor2D {
  return trainable ? matMulFast(x, W) : matMulConst(x, W);
}

/** LayerNorm over the last axis with affine weight and bias. */
export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
  });
}

/** Token shift: x_{t-1} for every t, with `prev` [B, C] (zeros when null) before the first token. x [B, T, C]. */
function shiftTokens(x: tf.Tensor3D, prev: tf.Tensor2D | null): tf.Tensor3D {
  const [B, T, C] = x.shape;
  const first = prev ? tf.reshape(prev, [B, 1, C]) : tf.zeros([B, 1, C]);
  if (T === 1) return first as tf.Tensor3D;
  return tf.concat([first, tf.slice(x, [0, 0, 0], [B, T - 1, C])], 1) as tf.Tensor3D; // [B, T, C]
}

/** Apply a linear to [B, T, in] -> [B*T, out]. */
function apply2d(lin: Linear, x: tf.Tensor3D): tf.Tensor2D {
  const [B, T, C] = x.shape;
  return lin.apply(tf.reshape(x, [B * T, C]) as tf.Tensor2D);
}

/** [B*T, H*N] -> [B*H, T, N] (one row of the WKV batch per head). */
function toHeads(x: tf.Tensor2D, B: number, T: number, H: number, N: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, N]), [0, 2, 1, 3]), [B * H, T, N]);
}

export interface TimeMixResult {
  /** [B, T, C]. */
  out: tf.Tensor3D;
  /** The mixer input at the last token [B, C] (next call's token-shift state). */
  lastX: tf.Tensor2D;
  /** WKV state after the last token [B*H, N, N]. */
  state: tf.Tensor3D;
}

/** Time mixing (attention replacement): ddlerp token shift, data-dependent decay, WKV6, GroupNorm, gate, output. */
export function timeMix(
  x: tf.Tensor3D,
  prevX: tf.Tensor2D | null,
  s0: tf.Tensor3D | null,
  p: BlockParams,
  d: MixDims,
  wkvOpts: WkvOptions,
): TimeMixResult {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const BT = B * T;
    const xx = tf.sub(shiftTokens(x, prevX), x); // [B, T, C]
    const xxx = tf.add(x, tf.mul(xx, p.get('att.time_maa_x'))); // [B, T, C]
    const w1 = p.get('att.time_maa_w1') as tf.Variable<tf.Rank.R2>; // [C, 5 * dMix]
    const w2 = p.get('att.time_maa_w2');
    const m = tf.tanh(paramMatMul(tf.reshape(xxx, [BT, C]), w1, w1.trainable)); // [BT, 5 * dMix]
    const mixed = (i: number, name: string) => {
      const mi = tf.slice(m, [0, i * d.dMix], [BT, d.dMix]) as tf.Tensor2D; // [BT, dMix]
      const w2i = tf.reshape(tf.slice(w2, [i, 0, 0], [1, d.dMix, C]), [d.dMix, C]) as tf.Tensor2D; // [dMix, C]
      const delta = tf.reshape(paramMatMul(mi, w2i, w2.trainable), [B, T, C]); // [B, T, C]
      return tf.add(x, tf.mul(xx, tf.add(p.get(`att.time_maa_${name}`), delta))) as tf.Tensor3D; // [B, T, C]
    };
    // Official order of the five interpolations: w, k, v, r, g.
    const xw = mixed(0, 'w');
    const xk = mixed(1, 'k');
    const xv = mixed(2, 'v');
    const xr = mixed(3, 'r');
    const xg = mixed(4, 'g');

    const r = apply2d(p.linear('att.receptance'), xr); // [BT, A]
    const k = apply2d(p.linear('att.key'), xk); // [BT, A]
    const v = apply2d(p.linear('att.value'), xv); // [BT, A]
    const gPre = apply2d(p.linear('att.gate'), xg); // [BT, A]
    const g = tf.mul(gPre, tf.sigmoid(gPre)); // silu [BT, A]

    const dw1 = p.get('att.time_decay_w1') as tf.Variable<tf.Rank.R2>; // [C, dDecay]
    const dw2 = p.get('att.time_decay_w2') as tf.Variable<tf.Rank.R2>; // [dDecay, A]
    const ww = paramMatMul(tf.tanh(paramMatMul(tf.reshape(xw, [BT, C]) as tf.Tensor2D, dw1, dw1.trainable)), dw2, dw2.trainable); // [BT, A]
    const lw = tf.neg(tf.exp(tf.add(tf.reshape(p.get('att.time_decay'), [1, d.A]), ww))) as tf.Tensor2D; // log decay [BT, A]

    const u = tf.reshape(tf.tile(tf.reshape(p.get('att.time_faaaa'), [1, d.H, d.N]), [B, 1, 1]), [B * d.H, d.N]) as tf.Tensor2D; // [B*H, N]
    const { y, state } = wkv6(
      { r: toHeads(r, B, T, d.H, d.N), k: toHeads(k, B, T, d.H, d.N), v: toHeads(v, B, T, d.H, d.N), lw: toHeads(lw, B, T, d.H, d.N), u, s0 },
      wkvOpts.mode,
      wkvOpts.chunkLen,
    ); // [B*H, T, N]
    const yh = tf.reshape(tf.transpose(tf.reshape(y, [B, d.H, T, d.N]), [0, 2, 1, 3]), [BT, d.H, d.N]); // [BT, H, N]
    // ln_x: GroupNorm with one group per head.
    const { mean, variance } = tf.moments(yh, -1, true);
    const yn = tf.reshape(tf.mul(tf.sub(yh, mean), tf.rsqrt(tf.add(variance, d.lnxEps))), [BT, d.A]); // [BT, A]
    const ynorm = tf.add(tf.mul(yn, p.get('att.ln_x.weight')), p.get('att.ln_x.bias')); // [BT, A]
    const out = p.linear('att.output').apply(tf.mul(ynorm, g) as tf.Tensor2D); // [BT, C]
    const lastX = tf.reshape(tf.slice(x, [0, T - 1, 0], [B, 1, C]), [B, C]) as tf.Tensor2D;
    return { out: tf.reshape(out, [B, T, C]) as tf.Tensor3D, lastX, state };
  });
}

export interface ChannelMixResult {
  /** [B, T, C]. */
  out: tf.Tensor3D;
  /** The mixer input at the last token [B, C]. */
  lastX: tf.Tensor2D;
}

/** Channel mixing (FFN replacement): token shift, squared-ReLU key, value, sigmoid receptance gate. */
export function channelMix(x: tf.Tensor3D, prevX: tf.Tensor2D | null, p: BlockParams): ChannelMixResult {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const xx = tf.sub(shiftTokens(x, prevX), x); // [B, T, C]
    const xk = tf.add(x, tf.mul(xx, p.get('ffn.time_maa_k'))) as tf.Tensor3D; // [B, T, C]
    const xr = tf.add(x, tf.mul(xx, p.get('ffn.time_maa_r'))) as tf.Tensor3D; // [B, T, C]
    const k = tf.square(tf.relu(apply2d(p.linear('ffn.key'), xk))) as tf.Tensor2D; // [BT, F]
    const kv = p.linear('ffn.value').apply(k); // [BT, C]
    const out = tf.mul(tf.sigmoid(apply2d(p.linear('ffn.receptance'), xr)), kv); // [BT, C]
    const lastX = tf.reshape(tf.slice(x, [0, T - 1, 0], [B, 1, C]), [B, C]) as tf.Tensor2D;
    return { out: tf.reshape(out, [B, T, C]) as tf.Tensor3D, lastX };
  });
}
