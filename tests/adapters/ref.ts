/** Plain float64 restatements of the adapter formulas (nested arrays, loops), independent of lib/ code paths. */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/util/random';

export type M = number[][];

export function rand(rng: Rng, m: number, n: number, std = 1): M {
  return Array.from({ length: m }, () => Array.from({ length: n }, () => std * rng.normal()));
}
export const zerosM = (m: number, n: number): M => Array.from({ length: m }, () => new Array(n).fill(0));
export const tr = (a: M): M => a[0].map((_, j) => a.map((row) => row[j]));
export function mm(a: M, b: M): M {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}
export const add = (a: M, b: M, s = 1): M => a.map((row, i) => row.map((v, j) => v + s * b[i][j]));
export const scaleM = (a: M, s: number): M => a.map((row) => row.map((v) => s * v));
export const t2 = (a: M): tf.Tensor2D => tf.tensor2d(a);
export const toM = (t: tf.Tensor): M => t.arraySync() as M;

/** y = x W^T + b. */
export function linear(x: M, w: M, b: number[] | null): M {
  return mm(x, tr(w)).map((row) => row.map((v, o) => v + (b ? b[o] : 0)));
}

/** Bone/MiSS: ΔW[o, i] = D[i mod r, o] for D [r, out]. */
export function boneDelta(D: M, inF: number): M {
  const r = D.length;
  return D[0].map((_, o) => Array.from({ length: inF }, (_, i) => D[i % r][o]));
}

/** Bat ΔW with tiles W_pq: out-block ΔW_pq = W_pq B_p + B_p, in-block ΔW_pq = W_pq B_q + B_q. */
export function batDelta(W: M, blocks: number[][][], r: number, convention: 'out-block' | 'in-block'): M {
  const out = W.length;
  const inF = W[0].length;
  const d = zerosM(out, inF);
  for (let p = 0; p < out / r; p++) {
    for (let q = 0; q < inF / r; q++) {
      const B = blocks[convention === 'out-block' ? p : q];
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          let s = B[i][j];
          for (let k = 0; k < r; k++) s += W[p * r + i][q * r + k] * B[k][j];
          d[p * r + i][q * r + j] = s;
        }
      }
    }
  }
  return d;
}

/** Max |a - b| relative to max(1, max |b|). */
export function relErr(a: M | number[], b: M | number[]): number {
  const fa = (a as unknown[]).flat(2) as number[];
  const fb = (b as unknown[]).flat(2) as number[];
  if (fa.length !== fb.length) return Infinity;
  let d = 0;
  let s = 1;
  fa.forEach((v, i) => {
    d = Math.max(d, Math.abs(v - fb[i]));
    s = Math.max(s, Math.abs(fb[i]));
  });
  return d / s;
}

/** A Householder reflection I - 2 v v^T / v^T v (orthogonal, symmetric). */
export function householder(v: number[]): M {
  const vv = v.reduce((s, e) => s + e * e, 0);
  return v.map((a, i) => v.map((b, j) => (i === j ? 1 : 0) - (2 * a * b) / vv));
}

/** Orthonormal basis of the columns of X by modified Gram-Schmidt (full column rank assumed). */
export function gramSchmidt(X: M): M {
  const cols = tr(X);
  const basis: number[][] = [];
  for (const c of cols) {
    const v = [...c];
    for (const b of basis) {
      const d = v.reduce((s, e, i) => s + e * b[i], 0);
      for (let i = 0; i < v.length; i++) v[i] -= d * b[i];
    }
    const n = Math.sqrt(v.reduce((s, e) => s + e * e, 0));
    basis.push(v.map((e) => e / n));
  }
  return tr(basis);
}
