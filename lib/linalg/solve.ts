/** Small dense solves in float64: LU with partial pivoting, used for Bat's unmerge (W' - B)(I + B)^-1. */
import { zeros, type Matrix } from './matrix';

const EPS = 2.220446049250313e-16;

/** Solve A X = B for square A [n, n] and B [n, p]. Throws when A is singular to working precision. */
export function solve(a: Matrix, b: Matrix): Matrix {
  const n = a.rows;
  if (a.cols !== n) throw new Error(`linalg: solve needs a square matrix, got [${a.rows}, ${a.cols}]`);
  if (b.rows !== n) throw new Error(`linalg: solve right-hand side has ${b.rows} rows, expected ${n}`);
  const p = b.cols;
  const L = Float64Array.from(a.data);
  const X = Float64Array.from(b.data);
  let amax = 0;
  for (let i = 0; i < L.length; i++) amax = Math.max(amax, Math.abs(L[i]));
  const tiny = n * EPS * amax;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(L[r * n + c]) > Math.abs(L[piv * n + c])) piv = r;
    const pv = L[piv * n + c];
    if (!(Math.abs(pv) > tiny)) {
      throw new Error(`linalg: matrix is singular to working precision (pivot ${pv.toExponential(3)} in column ${c} of a ${n}x${n} matrix)`);
    }
    if (piv !== c) {
      for (let j = 0; j < n; j++) [L[c * n + j], L[piv * n + j]] = [L[piv * n + j], L[c * n + j]];
      for (let j = 0; j < p; j++) [X[c * p + j], X[piv * p + j]] = [X[piv * p + j], X[c * p + j]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = L[r * n + c] / pv;
      if (f === 0) continue;
      for (let j = c; j < n; j++) L[r * n + j] -= f * L[c * n + j];
      for (let j = 0; j < p; j++) X[r * p + j] -= f * X[c * p + j];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    const d = L[c * n + c];
    for (let j = 0; j < p; j++) {
      let s = X[c * p + j];
      for (let k = c + 1; k < n; k++) s -= L[c * n + k] * X[k * p + j];
      X[c * p + j] = s / d;
    }
  }
  return { rows: n, cols: p, data: X };
}

/** A^-1 for square A (throws when singular). */
export function inverse(a: Matrix): Matrix {
  const n = a.rows;
  const I = zeros(n, n);
  for (let i = 0; i < n; i++) I.data[i * n + i] = 1;
  return solve(a, I);
}
