/**
 * The RWKV6 WKV recurrence for G = batch * heads independent heads of size N, in two differentiable forms:
 *   y_t = r_t (diag(u) k_t^T v_t + S_{t-1}),   S_t = diag(w_t) S_{t-1} + k_t^T v_t,
 * with per-step, per-channel decay w_t = exp(lw_t), lw_t = -exp(time_decay + ddlerp decay) <= 0.
 * S is [N_key, N_value]; r_t, k_t, v_t are row vectors [1, N].
 *
 * wkv6Scan is the direct per-step scan; wkv6Chunked is the matrix form within chunks of length L (exact, with
 * cumulative decays) and carries the state between chunks, so it runs T/L sequential steps instead of T.
 */
import * as tf from '@tensorflow/tfjs';

type GradFn = Parameters<typeof tf.customGrad>[0];

/**
 * Batched a [G, m, k] x b [G, k, n] -> [G, m, n] whose backward uses explicit transposes and plain products only
 * (the wasm backend's transposed matMul is many times slower than the plain one).
 */
export const bmm: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D = tf.customGrad(
  ((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), // [G, m, n]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as tf.Tensor3D[];
        const da = tf.matMul(dy as tf.Tensor3D, tf.transpose(sb, [0, 2, 1])); // [G, m, n] x [G, n, k]
        const db = tf.matMul(tf.transpose(sa, [0, 2, 1]), dy as tf.Tensor3D); // [G, k, m] x [G, m, n]
        return [da, db];
      },
    };
  }) as unknown as GradFn,
) as unknown as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

export interface WkvInputs {
  /** Receptance [G, T, N]. */
  r: tf.Tensor3D;
  /** Key [G, T, N]. */
  k: tf.Tensor3D;
  /** Value [G, T, N]. */
  v: tf.Tensor3D;
  /** Log decay lw = -exp(raw decay) [G, T, N] (<= 0). */
  lw: tf.Tensor3D;
  /** Bonus u (time_faaaa) per head, tiled to [G, N]. */
  u: tf.Tensor2D;
  /** State before the first step [G, N, N] (zeros when absent). */
  s0?: tf.Tensor3D | null;
}

export interface WkvOutputs {
  /** [G, T, N]. */
  y: tf.Tensor3D;
  /** State after the last step [G, N, N]. */
  state: tf.Tensor3D;
}

/** tf.unstack along axis 1, except that a size-1 axis is a reshape (tfjs' Unpack gradient fails for one output). */
function unstack1(x: tf.Tensor): tf.Tensor[] {
  if (x.shape[1] !== 1) return tf.unstack(x, 1);
  return [tf.reshape(x, [x.shape[0], ...x.shape.slice(2)])];
}

function checkShapes(x: WkvInputs, what: string): [number, number, number] {
  const [G, T, N] = x.r.shape;
  for (const [name, t] of [['k', x.k], ['v', x.v], ['lw', x.lw]] as const)
    if (t.shape.join() !== x.r.shape.join()) throw new Error(`${what}: ${name} has shape [${t.shape}] but r has [${x.r.shape}]`);
  if (x.u.shape.join() !== [G, N].join()) throw new Error(`${what}: u has shape [${x.u.shape}], expected [${G}, ${N}]`);
  if (x.s0 && x.s0.shape.join() !== [G, N, N].join())
    throw new Error(`${what}: initial state has shape [${x.s0.shape}], expected [${G}, ${N}, ${N}]`);
  if (T < 1) throw new Error(`${what}: sequence length must be >= 1, got ${T}`);
  return [G, T, N];
}

/** Direct sequential scan: T steps, each an outer product, a state read and a decayed state update. */
export function wkv6Scan(x: WkvInputs): WkvOutputs {
  const [G, T, N] = checkShapes(x, 'wkv6Scan');
  return tf.tidy(() => {
    const rs = unstack1(x.r) as tf.Tensor2D[]; // T x [G, N]
    const ks = unstack1(x.k) as tf.Tensor2D[];
    const vs = unstack1(x.v) as tf.Tensor2D[];
    const ws = unstack1(tf.exp(x.lw)) as tf.Tensor2D[]; // decays in (0, 1]
    let S: tf.Tensor3D = x.s0 ?? tf.zeros([G, N, N]);
    const ys: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      const kv = tf.mul(tf.reshape(ks[t], [G, N, 1]), tf.reshape(vs[t], [G, 1, N])) as tf.Tensor3D; // [G, N, N]
      const read = tf.reshape(bmm(tf.reshape(rs[t], [G, 1, N]) as tf.Tensor3D, S), [G, N]); // r_t S_{t-1}: [G, N]
      const bonus = tf.sum(tf.mul(tf.mul(rs[t], x.u), ks[t]), 1, true); // r_t diag(u) k_t^T: [G, 1]
      ys.push(tf.add(read, tf.mul(bonus, vs[t])) as tf.Tensor2D); // [G, N]
      S = tf.add(tf.mul(tf.reshape(ws[t], [G, N, 1]), S), kv) as tf.Tensor3D; // [G, N, N]
    }
    return { y: tf.stack(ys, 1) as tf.Tensor3D, state: S };
  });
}

/**
 * Additive mask [L, L, 1] on the intra-chunk log decay: 0 where s < t (row t, column s), -1e30 elsewhere, so exp gives
 * exactly 0 there (s = t is the bonus term; s > t is the future). One add instead of a multiply-exp-multiply.
 */
function strictLowerBias(L: number): tf.Tensor3D {
  const m = new Float32Array(L * L).fill(-1e30);
  for (let t = 0; t < L; t++) for (let s = 0; s < t; s++) m[t * L + s] = 0;
  return tf.tensor3d(m, [L, L, 1]);
}

/** Multiplicative mask [L, L]: 1 where s < t. */
function strictLowerMask(L: number): tf.Tensor2D {
  const m = new Float32Array(L * L);
  for (let t = 0; t < L; t++) for (let s = 0; s < t; s++) m[t * L + s] = 1;
  return tf.tensor2d(m, [L, L]);
}

/**
 * The factored intra-chunk product multiplies factors up to exp(|total chunk log decay| / 2), and its masked-out upper
 * triangle (s >= t) reaches the product of two, before the mask zeroes it: an Inf there would become NaN. Below this
 * half-range (e^60 ~ 1e26 for the pair) that needs |r.k| ~ 1e12, far beyond any real activation. Above it the exact form
 * is used.
 */
const FACTOR_SAFE_HALF_RANGE = 30;

/** How wkv6Chunked computes the intra-chunk decay: 'auto' picks 'factored' when safe, else 'exact'. */
export type IntraMode = 'auto' | 'exact' | 'factored';

/**
 * Intra-chunk scores [GC, L(t), L(s)] = sum_i r_ti k_si exp(A_{t-1,i} - A_si) for s < t, 0 elsewhere.
 * 'exact': the decay as a full [GC, L, L, N] tensor, every exponent <= 0, safe for any decay (5 large elementwise
 * ops, exp the costliest). 'factored': (r_t exp(A_{t-1} - R)) (k_s exp(R - A_s))^T with R half the chunk's total log
 * decay, one small batched product; its factors reach exp(|A_L| / 2), so it is only used when that stays small.
 */
function intraScores(r: tf.Tensor3D, k: tf.Tensor3D, A: tf.Tensor3D, Aex: tf.Tensor3D, Aend: tf.Tensor3D, mode: IntraMode): tf.Tensor3D {
  const [GC, L, N] = r.shape;
  let factored = mode === 'factored';
  if (mode === 'auto') factored = tf.tidy(() => tf.min(Aend).dataSync()[0]) >= -2 * FACTOR_SAFE_HALF_RANGE;
  if (factored) {
    const R = tf.mul(Aend, 0.5); // [GC, 1, N]
    const q = tf.mul(r, tf.exp(tf.sub(Aex, R))); // [GC, L, N]
    const kk = tf.mul(k, tf.exp(tf.sub(R, A))); // [GC, L, N]
    return tf.mul(bmm(q as tf.Tensor3D, tf.transpose(kk, [0, 2, 1]) as tf.Tensor3D), strictLowerMask(L)); // [GC, L, L]
  }
  const diff = tf.sub(tf.reshape(Aex, [GC, L, 1, N]), tf.reshape(A, [GC, 1, L, N])); // [GC, L, L, N]
  const decay = tf.exp(tf.add(diff, strictLowerBias(L))); // [GC, L, L, N], 0 where s >= t
  const kDec = tf.mul(tf.reshape(k, [GC, 1, L, N]), decay); // k_s decayed to t: [GC, L, L, N]
  return tf.sum(tf.mul(tf.reshape(r, [GC, L, 1, N]), kDec), 3) as tf.Tensor3D; // [GC, L, L]
}

/**
 * Chunked form. Within a chunk, with inclusive cumulative log decay A_t = sum_{j<=t} lw_j and A_{-1} = 0:
 *   y_t = (r_t * exp(A_{t-1})) S_0 + sum_{s<t} [sum_i r_ti k_si exp(A_{t-1,i} - A_si)] v_s + (r_t . u . k_t) v_t,
 *   S_L = diag(exp(A_L)) S_0 + sum_s (k_s * exp(A_L - A_s))^T v_s.
 * The cross-chunk exponents are all <= 0; the intra-chunk term is exact for any decay (see intraScores: it falls back
 * from the fast factored product to the full [L, L, N] decay when a chunk decays too strongly for float32).
 * T is zero-padded to a multiple of L (zero k and lw: padded steps leave the state unchanged).
 */
export function wkv6Chunked(x: WkvInputs, chunkLen = 16, intra: IntraMode = 'auto'): WkvOutputs {
  const [G, T, N] = checkShapes(x, 'wkv6Chunked');
  if (!Number.isInteger(chunkLen) || chunkLen < 1) throw new Error(`wkv6Chunked: chunkLen must be a positive integer, got ${chunkLen}`);
  const L = Math.min(chunkLen, T);
  const nC = Math.ceil(T / L);
  const Tp = nC * L;
  return tf.tidy(() => {
    const pad = (t: tf.Tensor3D) => (Tp === T ? t : tf.pad(t, [[0, 0], [0, Tp - T], [0, 0]]));
    const GC = G * nC;
    const r = tf.reshape(pad(x.r), [GC, L, N]); // [GC, L, N]
    const k = tf.reshape(pad(x.k), [GC, L, N]);
    const v = tf.reshape(pad(x.v), [GC, L, N]);
    const lw = tf.reshape(pad(x.lw), [GC, L, N]);
    // Cumsum on the last axis: tfjs' Cumsum gradient has the wrong shape for any other axis.
    const A = tf.transpose(tf.cumsum(tf.transpose(lw, [0, 2, 1]), 2), [0, 2, 1]); // inclusive [GC, L, N]
    const Aex = tf.sub(A, lw); // exclusive: A_{t-1} [GC, L, N]

    const Aend = tf.slice(A, [0, L - 1, 0], [GC, 1, N]); // total chunk log decay [GC, 1, N]
    let scores: tf.Tensor = intraScores(r as tf.Tensor3D, k as tf.Tensor3D, A as tf.Tensor3D, Aex as tf.Tensor3D, Aend as tf.Tensor3D, intra);
    const u = tf.reshape(tf.tile(tf.reshape(x.u, [G, 1, 1, N]), [1, nC, 1, 1]), [GC, 1, N]); // [GC, 1, N]
    const bonus = tf.sum(tf.mul(tf.mul(r, u), k), 2); // [GC, L]
    scores = tf.add(scores, tf.mul(tf.reshape(bonus, [GC, L, 1]), tf.eye(L))); // diagonal: the current token
    const yIntra = bmm(scores as tf.Tensor3D, v as tf.Tensor3D); // [GC, L, N]

    // Per-chunk state increment and total decay.
    const kd = tf.mul(k, tf.exp(tf.sub(Aend, A))); // [GC, L, N]
    const dS = tf.reshape(bmm(tf.transpose(kd, [0, 2, 1]) as tf.Tensor3D, v as tf.Tensor3D), [G, nC, N, N]); // [G, nC, N, N]
    const dc = tf.reshape(tf.exp(Aend), [G, nC, N, 1]); // [G, nC, N, 1]

    // Carry the state across chunks: nC sequential steps.
    const dSs = unstack1(dS) as tf.Tensor3D[]; // nC x [G, N, N]
    const dcs = unstack1(dc) as tf.Tensor3D[]; // nC x [G, N, 1]
    let S: tf.Tensor3D = x.s0 ?? tf.zeros([G, N, N]);
    const starts: tf.Tensor3D[] = [];
    for (let c = 0; c < nC; c++) {
      starts.push(S);
      S = tf.add(tf.mul(dcs[c], S), dSs[c]) as tf.Tensor3D; // [G, N, N]
    }
    const S0s = tf.reshape(tf.stack(starts, 1), [GC, N, N]); // [GC, N, N]
    const yInter = bmm(tf.mul(r, tf.exp(Aex)) as tf.Tensor3D, S0s as tf.Tensor3D); // [GC, L, N]

    let y = tf.reshape(tf.add(yIntra, yInter), [G, Tp, N]) as tf.Tensor3D; // [G, Tp, N]
    if (Tp !== T) y = tf.slice(y, [0, 0, 0], [G, T, N]);
    return { y, state: S };
  });
}

export type WkvMode = 'chunked' | 'scan';

/** Dispatch: single steps (generation) always scan; longer sequences use the requested form. */
export function wkv6(x: WkvInputs, mode: WkvMode = 'chunked', chunkLen = 16): WkvOutputs {
  return mode === 'scan' || x.r.shape[1] === 1 ? wkv6Scan(x) : wkv6Chunked(x, chunkLen);
}
