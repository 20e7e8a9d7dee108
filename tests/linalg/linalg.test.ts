import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromArray, fromNested, identity, matmul, maxAbsDiff, scaleCols, transpose, type Matrix } from '../../lib/linalg/matrix';
import { lowRankOmegaShape, svdLowRank } from '../../lib/linalg/lowrank';
import { orth, qr } from '../../lib/linalg/qr';
import { inverse, solve } from '../../lib/linalg/solve';
import { singularValues, svd } from '../../lib/linalg/svd';
import { Rng } from '../../lib/util/random';

const rng = new Rng(11);
function randn(m: number, n: number): Matrix {
  return fromArray(m, n, rng.normalArray(m * n));
}
/** A rank-k [m, n] matrix. */
function lowRank(m: number, n: number, k: number): Matrix {
  return matmul(randn(m, k), randn(k, n));
}

const SHAPES: [number, number, string][] = [
  [1, 1, 'scalar'],
  [1, 6, 'row'],
  [6, 1, 'column'],
  [16, 24, 'wide'],
  [24, 16, 'tall'],
  [40, 40, 'square'],
];

for (const [m, n, what] of SHAPES) {
  test(`svd ${m}x${n} (${what}): U S V^T = A, orthonormal factors, descending S, canonical signs`, () => {
    const A = randn(m, n);
    const { U, S, V } = svd(A);
    const k = Math.min(m, n);
    assert.equal([U.rows, U.cols, V.rows, V.cols, S.length], [m, k, n, k, k]);
    assert.ok(maxAbsDiff(matmul(scaleCols(U, S), transpose(V)), A) < 1e-12, 'reconstruction');
    assert.ok(maxAbsDiff(matmul(transpose(U), U), identity(k)) < 1e-12, 'U^T U = I');
    assert.ok(maxAbsDiff(matmul(transpose(V), V), identity(k)) < 1e-12, 'V^T V = I');
    for (let i = 1; i < k; i++) assert.ok(S[i] <= S[i - 1] && S[i] >= 0, 'descending, non-negative');
    for (let j = 0; j < k; j++) {
      let arg = 0;
      for (let i = 0; i < m; i++) if (Math.abs(U.data[i * k + j]) > Math.abs(U.data[arg * k + j])) arg = i;
      assert.ok(U.data[arg * k + j] > 0, `largest entry of u_${j} is positive`);
    }
    const sv = singularValues(A);
    for (let i = 0; i < k; i++) assert.ok(Math.abs(sv[i] - S[i]) < 1e-12, 'values-only path agrees');
  });
}

test('svd known values: [[3, 0], [4, 5]] has singular values 3 sqrt(5), sqrt(5)', () => {
  const { S, U } = svd(fromNested([[3, 0], [4, 5]]));
  assert.ok(Math.abs(S[0] - 3 * Math.sqrt(5)) < 1e-14 && Math.abs(S[1] - Math.sqrt(5)) < 1e-14, `got ${Array.from(S)}`);
  // u_1 = [1, 3] / sqrt(10) (positive largest entry), u_2 = [3, -1] / sqrt(10) (largest entry 3 > 0).
  const u = [U.data[0], U.data[2], U.data[1], U.data[3]];
  const want = [1, 3, 3, -1].map((v) => v / Math.sqrt(10));
  assert.ok(u.every((v, i) => Math.abs(v - want[i]) < 1e-14), `u = ${u}`);
});

test('svd of rank-deficient, zero and repeated-value matrices', () => {
  const L = lowRank(12, 9, 3);
  const s = svd(L);
  assert.ok(maxAbsDiff(matmul(scaleCols(s.U, s.S), transpose(s.V)), L) < 1e-12);
  assert.ok(s.S[3] < 1e-12 * s.S[0], `rank 3: S[3] = ${s.S[3]}`);
  assert.ok(maxAbsDiff(matmul(transpose(s.U), s.U), identity(9)) < 1e-12, 'U stays orthonormal past the rank');
  const Z = svd(fromArray(4, 6, new Array(24).fill(0)));
  assert.ok(Z.S.every((v) => v === 0));
  const I = svd(scaleCols(identity(5), [2, 2, 2, 1, 1]));
  assert.equal(Array.from(I.S), [2, 2, 2, 1, 1]);
});

test('svd at extreme magnitudes (1e-200, 1e150) and non-finite input', () => {
  for (const scale of [1e-200, 1e150]) {
    const A = fromArray(9, 6, Array.from(rng.normalArray(54), (v) => v * scale));
    const { U, S, V } = svd(A);
    const rec = matmul(scaleCols(U, S), transpose(V));
    let err = 0;
    A.data.forEach((v, i) => (err = Math.max(err, Math.abs(rec.data[i] - v) / scale)));
    assert.ok(err < 1e-12, `scale ${scale}: relative reconstruction error ${err}`);
  }
  assert.throws(() => svd(fromNested([[1, NaN], [0, 1]])), /svd input \[2, 2\] has a non-finite entry NaN at \(0, 1\)/);
  assert.throws(() => qr(fromNested([[1, 0], [Infinity, 1]])), /qr input .* non-finite entry Infinity at \(1, 0\)/);
});

test('svd of a 512x512 matrix takes well under a few seconds', () => {
  const A = randn(512, 512);
  const t0 = Date.now();
  const { U, S, V } = svd(A);
  const ms = Date.now() - t0;
  assert.ok(ms < 8000, `took ${ms} ms`);
  assert.ok(maxAbsDiff(matmul(scaleCols(U, S), transpose(V)), A) < 1e-10);
});

for (const [m, n, what] of SHAPES) {
  test(`qr ${m}x${n} (${what}): Q R = A, Q^T Q = I, R upper trapezoidal with diag >= 0`, () => {
    const A = randn(m, n);
    const { Q, R } = qr(A);
    const k = Math.min(m, n);
    assert.equal([Q.rows, Q.cols, R.rows, R.cols], [m, k, k, n]);
    assert.ok(maxAbsDiff(matmul(Q, R), A) < 1e-12, 'Q R = A');
    assert.ok(maxAbsDiff(matmul(transpose(Q), Q), identity(k)) < 1e-12, 'Q^T Q = I');
    for (let i = 0; i < k; i++) {
      assert.ok(R.data[i * n + i] >= 0, 'diag(R) >= 0');
      for (let j = 0; j < i; j++) assert.is(R.data[i * n + j], 0, 'below diagonal is zero');
    }
  });
}

test('qr known values and orth', () => {
  // [[0, 1], [1, 1]]: first column e_2, so R[0] = [1, 1], Q[:, 0] = e_2.
  const { Q, R } = qr(fromNested([[0, 1], [1, 1]]));
  assert.ok(maxAbsDiff(R, fromNested([[1, 1], [0, 1]])) < 1e-15, `R = ${Array.from(R.data)}`);
  assert.ok(maxAbsDiff(Q, fromNested([[0, 1], [1, 0]])) < 1e-15, `Q = ${Array.from(Q.data)}`);
  assert.throws(() => orth(randn(2, 3)), /rows >= cols/);
});

test('solve and inverse: A X = B, singular matrices throw', () => {
  const A = randn(7, 7);
  const B = randn(7, 3);
  assert.ok(maxAbsDiff(matmul(A, solve(A, B)), B) < 1e-10);
  assert.ok(maxAbsDiff(matmul(A, inverse(A)), identity(7)) < 1e-10);
  // Needs pivoting: zero leading entry.
  const P = fromNested([[0, 2], [3, 1]]);
  assert.ok(maxAbsDiff(matmul(P, inverse(P)), identity(2)) < 1e-15);
  assert.throws(() => inverse(fromNested([[1, 2], [2, 4]])), /singular/);
  assert.throws(() => solve(randn(2, 3), randn(2, 1)), /square/);
});

test('svdLowRank follows torch.svd_lowrank: U S V^T = A Q Q^T for the explicit omega, exact on low-rank inputs', () => {
  const A = randn(10, 14);
  const q = 3;
  const [om, oq] = lowRankOmegaShape(10, 14, q);
  assert.equal([om, oq], [10, 3], 'wide input: omega is [out, q]');
  const omega = randn(om, oq);
  const niter = 2;
  const r = svdLowRank(A, q, niter, omega);
  // Independent restatement: Q = orth(A^T omega); niter x (Q = orth(A Q); Q = orth(A^T Q)).
  let Q = orth(matmul(transpose(A), omega));
  for (let i = 0; i < niter; i++) Q = orth(matmul(transpose(A), orth(matmul(A, Q))));
  const want = matmul(matmul(A, Q), transpose(Q));
  assert.ok(maxAbsDiff(matmul(scaleCols(r.U, r.S), transpose(r.V)), want) < 1e-12);
  // Rank-q input: the range finder recovers it exactly, matching the dense SVD's values.
  const L = lowRank(20, 12, 3);
  const lr = svdLowRank(L, 3, 0, null, new Rng(5));
  const ex = svd(L);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(lr.S[i] - ex.S[i]) < 1e-9 * ex.S[0]);
  assert.ok(maxAbsDiff(matmul(scaleCols(lr.U, lr.S), transpose(lr.V)), L) < 1e-10);
  assert.throws(() => svdLowRank(A, 11, 2, null, new Rng(1)), /rank q=11/);
  assert.throws(() => svdLowRank(A, 3, 2, randn(4, 3)), /omega must be \[10, 3\]/);
});

test.run();
