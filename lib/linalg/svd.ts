/**
 * Thin singular value decomposition in float64: Householder bidiagonalisation followed by Golub-Kahan implicit-shift
 * QR sweeps on the bidiagonal (Golub & Van Loan, Matrix Computations, alg. 5.4.2 and 8.6.1-8.6.2).
 * A [m, n] = U diag(S) V^T with k = min(m, n), U [m, k], V [n, k], S descending and non-negative.
 * Canonical signs: the largest-|.| entry of each left singular vector is positive (first such entry on ties), which
 * is the convention of the conformance vectors.
 */
import { householder } from './householder';
import { assertFinite, transpose, zeros, type Matrix } from './matrix';

export interface Svd {
  U: Matrix; // [m, k]
  S: Float64Array; // [k], descending
  V: Matrix; // [n, k]
}

const EPS = 2.220446049250313e-16;

/** Thin SVD with canonical signs. */
export function svd(a: Matrix): Svd {
  assertFinite(a, 'svd');
  if (a.rows >= a.cols) {
    const r = svdTall(a, true);
    return canonicalSigns({ U: transpose(r.Ut!), S: r.d, V: transpose(r.Vt!) });
  }
  // Wide: A^T = U' S V'^T, so A = V' S U'^T.
  const r = svdTall(transpose(a), true);
  return canonicalSigns({ U: transpose(r.Vt!), S: r.d, V: transpose(r.Ut!) });
}

/** Singular values only (descending), cheaper: no vectors are accumulated. */
export function singularValues(a: Matrix): Float64Array {
  assertFinite(a, 'svd');
  return svdTall(a.rows >= a.cols ? a : transpose(a), false).d;
}

/**
 * Numerical rank: how many singular values exceed rtol * (largest singular value). The default rtol = max(m, n) * eps
 * is numpy's matrix_rank convention for float64 data; pass a larger one for data that went through float32.
 */
export function numericalRank(a: Matrix, rtol?: number): number {
  const tol = rtol ?? Math.max(a.rows, a.cols) * EPS;
  if (!Number.isFinite(tol) || tol < 0) throw new Error(`linalg: numericalRank rtol must be a finite number >= 0, got ${rtol}`);
  const s = singularValues(a);
  if (s.length === 0 || s[0] === 0) return 0;
  let rank = 0;
  while (rank < s.length && s[rank] > tol * s[0]) rank++;
  return rank;
}

/** Flip (u_k, v_k) pairs so the largest-|.| entry of each u_k is positive. */
export function canonicalSigns(s: Svd): Svd {
  const { U, V } = s;
  for (let k = 0; k < U.cols; k++) {
    let best = 0;
    let arg = 0;
    for (let i = 0; i < U.rows; i++) {
      const v = Math.abs(U.data[i * U.cols + k]);
      if (v > best) {
        best = v;
        arg = i;
      }
    }
    if (U.data[arg * U.cols + k] < 0) {
      for (let i = 0; i < U.rows; i++) U.data[i * U.cols + k] = -U.data[i * U.cols + k];
      for (let i = 0; i < V.rows; i++) V.data[i * V.cols + k] = -V.data[i * V.cols + k];
    }
  }
  return s;
}

/** Rows i, j of a row-major [*, len] buffer <- (c r_i + s r_j, -s r_i + c r_j). */
function rotateRows(m: Float64Array, len: number, i: number, j: number, c: number, s: number): void {
  const oi = i * len;
  const oj = j * len;
  for (let t = 0; t < len; t++) {
    const a = m[oi + t];
    const b = m[oj + t];
    m[oi + t] = c * a + s * b;
    m[oj + t] = c * b - s * a;
  }
}

interface Tall {
  d: Float64Array; // [n] singular values, descending
  Ut: Matrix | null; // [n, m] rows = left singular vectors
  Vt: Matrix | null; // [n, n] rows = right singular vectors
}

/** SVD of a tall matrix (m >= n), returning transposed factors (rows are vectors: rotations stay contiguous). */
function svdTall(a: Matrix, wantVectors: boolean): Tall {
  const m = a.rows;
  const n = a.cols;
  const X = Float64Array.from(a.data);
  // Work on A / max|A| so the squared terms of the shift neither overflow nor underflow; S is rescaled at the end.
  let amax = 0;
  for (let i = 0; i < X.length; i++) amax = Math.max(amax, Math.abs(X[i]));
  if (amax > 0) for (let i = 0; i < X.length; i++) X[i] /= amax;
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const left: { v: Float64Array; tau: number }[] = [];
  const right: { v: Float64Array; tau: number }[] = [];

  // 1. Bidiagonalise: X = U_B [d; e] V_B^T.
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = X[i * n + k];
    const [tau, alpha] = householder(v);
    d[k] = tau === 0 ? X[k * n + k] : alpha;
    left.push({ v, tau });
    if (tau !== 0) {
      w.fill(0, k + 1);
      for (let i = k; i < m; i++) {
        const vi = v[i - k];
        for (let j = k + 1; j < n; j++) w[j] += vi * X[i * n + j];
      }
      for (let i = k; i < m; i++) {
        const f = tau * v[i - k];
        for (let j = k + 1; j < n; j++) X[i * n + j] -= f * w[j];
      }
    }
    if (k < n - 2) {
      const u = X.slice(k * n + k + 1, k * n + n);
      const [tr, beta] = householder(u);
      e[k] = tr === 0 ? X[k * n + k + 1] : beta;
      right.push({ v: u, tau: tr });
      if (tr !== 0) {
        for (let i = k + 1; i < m; i++) {
          let dot = 0;
          const o = i * n + k + 1;
          for (let j = 0; j < u.length; j++) dot += X[o + j] * u[j];
          const f = tr * dot;
          for (let j = 0; j < u.length; j++) X[o + j] -= f * u[j];
        }
      }
    } else if (k === n - 2) {
      e[k] = X[k * n + k + 1];
    }
  }

  // 2. Accumulate U = H_0..H_{n-1} [I; 0] and V = G_0..G_{n-3}, then keep them transposed.
  let Ut: Float64Array = new Float64Array(0);
  let Vt: Float64Array = new Float64Array(0);
  if (wantVectors) {
    const U = new Float64Array(m * n);
    for (let i = 0; i < n; i++) U[i * n + i] = 1;
    for (let k = n - 1; k >= 0; k--) applyLeft(U, n, k, k, left[k]);
    const V = new Float64Array(n * n);
    for (let i = 0; i < n; i++) V[i * n + i] = 1;
    for (let k = n - 3; k >= 0; k--) applyLeft(V, n, k + 1, k + 1, right[k]);
    Ut = transpose({ rows: m, cols: n, data: U }).data;
    Vt = transpose({ rows: n, cols: n, data: V }).data;
  }

  // 3. Implicit-shift QR on the bidiagonal until every superdiagonal entry is negligible.
  bidiagonalQr(d, e, wantVectors ? Ut : null, m, wantVectors ? Vt : null, n);

  // 4. Non-negative values, sorted descending (vectors permuted along).
  for (let i = 0; i < n; i++) {
    if (d[i] < 0) {
      d[i] = -d[i];
      if (wantVectors) for (let t = 0; t < n; t++) Vt[i * n + t] = -Vt[i * n + t];
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => d[q] - d[p] || p - q);
  const ds = Float64Array.from(order, (i) => d[i] * (amax > 0 ? amax : 1));
  if (!wantVectors) return { d: ds, Ut: null, Vt: null };
  const Us = zeros(n, m);
  const Vs = zeros(n, n);
  order.forEach((src, dst) => {
    Us.data.set(Ut.subarray(src * m, (src + 1) * m), dst * m);
    Vs.data.set(Vt.subarray(src * n, (src + 1) * n), dst * n);
  });
  return { d: ds, Ut: Us, Vt: Vs };
}

/** M[r0.., c0..] <- (I - tau v v^T) M[r0.., c0..] for a row-major [*, cols] buffer. */
function applyLeft(M: Float64Array, cols: number, r0: number, c0: number, h: { v: Float64Array; tau: number }): void {
  if (h.tau === 0) return;
  const w = new Float64Array(cols);
  for (let i = 0; i < h.v.length; i++) {
    const vi = h.v[i];
    const o = (r0 + i) * cols;
    for (let j = c0; j < cols; j++) w[j] += vi * M[o + j];
  }
  for (let i = 0; i < h.v.length; i++) {
    const f = h.tau * h.v[i];
    const o = (r0 + i) * cols;
    for (let j = c0; j < cols; j++) M[o + j] -= f * w[j];
  }
}

function givens(a: number, b: number): [number, number, number] {
  if (b === 0) return [1, 0, a];
  const r = Math.sqrt(a * a + b * b);
  return [a / r, b / r, r];
}

/**
 * Diagonalise the upper bidiagonal (d, e) in place by Golub-Kahan steps with a Wilkinson shift, applying right
 * rotations to the rows of Vt and left rotations to the rows of Ut (when given).
 */
function bidiagonalQr(d: Float64Array, e: Float64Array, Ut: Float64Array | null, m: number, Vt: Float64Array | null, n: number): void {
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]) + (i < n - 1 ? Math.abs(e[i]) : 0));
  // NaN here would make every "negligible" test false and the sweeps spin to maxIter: fail with the real cause.
  if (!Number.isFinite(anorm)) throw new Error(`linalg: SVD bidiagonal of the ${m}x${n} input is not finite (${anorm})`);
  if (anorm === 0) return;
  // e_i is negligible below eps ||B||: the bidiagonalisation already perturbed B by about that much.
  const tol = EPS * anorm;
  const small = (i: number): boolean => Math.abs(e[i]) <= tol;
  const maxIter = 50 * n + 100; // Golub-Kahan needs about 2 steps per singular value
  let iter = 0;
  let hi = n - 1;
  while (hi > 0) {
    if (small(hi - 1)) {
      e[hi - 1] = 0;
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && !small(lo - 1)) lo--;
    if (lo > 0) e[lo - 1] = 0;
    let zeroAt = -1;
    for (let i = hi; i >= lo; i--) {
      if (Math.abs(d[i]) <= tol) {
        zeroAt = i;
        break;
      }
    }
    if (zeroAt >= 0) {
      d[zeroAt] = 0;
      if (zeroAt < hi) {
        // Zero diagonal inside the block: chase e[zeroAt] along its row with left rotations.
        let f = e[zeroAt];
        e[zeroAt] = 0;
        for (let j = zeroAt + 1; j <= hi && f !== 0; j++) {
          const [c, s, r] = givens(d[j], f);
          d[j] = r;
          if (j < hi) {
            f = -s * e[j];
            e[j] = c * e[j];
          }
          if (Ut) rotateRows(Ut, m, j, zeroAt, c, s);
        }
      } else {
        // Zero at the block's end: chase e[hi-1] up its column with right rotations.
        let f = e[hi - 1];
        e[hi - 1] = 0;
        for (let j = hi - 1; j >= lo && f !== 0; j--) {
          const [c, s, r] = givens(d[j], f);
          d[j] = r;
          if (j > lo) {
            f = -s * e[j - 1];
            e[j - 1] = c * e[j - 1];
          }
          if (Vt) rotateRows(Vt, n, j, hi, c, s);
        }
      }
      continue;
    }
    if (++iter > maxIter) throw new Error(`linalg: SVD did not converge after ${maxIter} QR sweeps (matrix ${m}x${n})`);
    gkStep(d, e, lo, hi, Ut, m, Vt, n);
  }
}

/** One implicit Golub-Kahan QR step on the unreduced block [lo, hi]. */
function gkStep(d: Float64Array, e: Float64Array, lo: number, hi: number, Ut: Float64Array | null, m: number, Vt: Float64Array | null, n: number): void {
  // Wilkinson shift: the eigenvalue of the trailing 2x2 of B^T B closer to its last entry.
  const dm = d[hi - 1];
  const dn = d[hi];
  const en = e[hi - 1];
  const em = hi - 1 > lo ? e[hi - 2] : 0;
  const t11 = dm * dm + em * em;
  const t12 = dm * en;
  const t22 = dn * dn + en * en;
  const delta = (t11 - t22) / 2;
  const den = delta + (delta >= 0 ? 1 : -1) * Math.sqrt(delta * delta + t12 * t12);
  const mu = den === 0 ? t22 : t22 - (t12 * t12) / den;
  let y = d[lo] * d[lo] - mu;
  let z = d[lo] * e[lo];
  for (let k = lo; k < hi; k++) {
    // Right rotation on columns k, k+1.
    let [c, s, r] = givens(y, z);
    if (k > lo) e[k - 1] = r;
    let a = d[k];
    let b = e[k];
    d[k] = c * a + s * b;
    e[k] = c * b - s * a;
    let bulge = s * d[k + 1];
    d[k + 1] = c * d[k + 1];
    if (Vt) rotateRows(Vt, n, k, k + 1, c, s);
    // Left rotation on rows k, k+1 removes the bulge below the diagonal.
    [c, s, r] = givens(d[k], bulge);
    d[k] = r;
    a = e[k];
    b = d[k + 1];
    e[k] = c * a + s * b;
    d[k + 1] = c * b - s * a;
    if (k < hi - 1) {
      bulge = s * e[k + 1];
      e[k + 1] = c * e[k + 1];
    }
    if (Ut) rotateRows(Ut, m, k, k + 1, c, s);
    y = e[k];
    z = bulge;
  }
}
