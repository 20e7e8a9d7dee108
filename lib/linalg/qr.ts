/**
 * Reduced Householder QR in float64: A [m, n] = Q [m, k] R [k, n], k = min(m, n), Q^T Q = I, R upper trapezoidal.
 * Canonical signs: diag(R) >= 0 (LAPACK fixes no sign; B A and residuals built from Q, R are sign-free anyway).
 */
import { householder } from './householder';
import { assertFinite, zeros, type Matrix } from './matrix';

export interface Qr {
  Q: Matrix; // [m, k]
  R: Matrix; // [k, n]
}

export function qr(a: Matrix): Qr {
  assertFinite(a, 'qr');
  const m = a.rows;
  const n = a.cols;
  const k = Math.min(m, n);
  const X = Float64Array.from(a.data);
  const refl: { v: Float64Array; tau: number }[] = [];
  const w = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(m - j);
    for (let i = j; i < m; i++) v[i - j] = X[i * n + j];
    // scaled like LAPACK's dlarfg: rank-deficient inputs leave remainders whose squares underflow
    const [tau, beta] = householder(v);
    if (tau !== 0) {
      // Apply H = I - tau v v^T to X[j.., j+1..]; column j becomes beta e1.
      w.fill(0, j);
      for (let i = j; i < m; i++) {
        const vi = v[i - j];
        const o = i * n;
        for (let c = j + 1; c < n; c++) w[c] += vi * X[o + c];
      }
      for (let i = j; i < m; i++) {
        const f = tau * v[i - j];
        const o = i * n;
        for (let c = j + 1; c < n; c++) X[o + c] -= f * w[c];
      }
      X[j * n + j] = beta;
      for (let i = j + 1; i < m; i++) X[i * n + j] = 0;
    }
    refl.push({ v, tau });
  }
  const R = zeros(k, n);
  for (let i = 0; i < k; i++) for (let c = i; c < n; c++) R.data[i * n + c] = X[i * n + c];
  // Q = H_0 .. H_{k-1} [I_k; 0], accumulated backwards.
  const Q = zeros(m, k);
  for (let i = 0; i < k; i++) Q.data[i * k + i] = 1;
  const wq = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    const { v, tau } = refl[j];
    if (tau === 0) continue;
    wq.fill(0);
    for (let i = j; i < m; i++) {
      const vi = v[i - j];
      const o = i * k;
      for (let c = j; c < k; c++) wq[c] += vi * Q.data[o + c];
    }
    for (let i = j; i < m; i++) {
      const f = tau * v[i - j];
      const o = i * k;
      for (let c = j; c < k; c++) Q.data[o + c] -= f * wq[c];
    }
  }
  // Canonical signs: flip row i of R and column i of Q where R[i, i] < 0.
  for (let i = 0; i < k; i++) {
    if (R.data[i * n + i] < 0) {
      for (let c = 0; c < n; c++) R.data[i * n + c] = -R.data[i * n + c];
      for (let r = 0; r < m; r++) Q.data[r * k + i] = -Q.data[r * k + i];
    }
  }
  return { Q, R };
}

/** An orthonormal basis of the column space of X [p, q] (p >= q): the Q of its reduced QR. */
export function orth(x: Matrix): Matrix {
  if (x.rows < x.cols) throw new Error(`linalg: orth needs rows >= cols, got [${x.rows}, ${x.cols}]`);
  return qr(x).Q;
}
