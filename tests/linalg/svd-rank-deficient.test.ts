/**
 * The SVD on exactly rank-deficient inputs: Bone-style tilings ΔW[o, c] = D[c mod r, o] (repeated columns), rank-1,
 * all-zero, and bidiagonals with exact zero diagonals. Singular values are checked against an independent reference
 * (a cyclic Jacobi eigen solver on the Gram matrix, written here) and against closed forms.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromArray, fromNested, identity, matmul, maxAbsDiff, scale, scaleCols, transpose, zeros, type Matrix } from '../../lib/linalg/matrix';
import { numericalRank, singularValues, svd } from '../../lib/linalg/svd';
import { qr } from '../../lib/linalg/qr';
import { Rng } from '../../lib/util/random';

const rng = new Rng(23);

/** Bone's update layout: ΔW [out, in] with ΔW[o, c] = D[c mod r, o], D [r, out]. */
function boneTiling(out: number, inn: number, r: number, d = rng.normalArray(r * out)): Matrix {
  const a = zeros(out, inn);
  for (let o = 0; o < out; o++) for (let c = 0; c < inn; c++) a.data[o * inn + c] = d[(c % r) * out + o];
  return a;
}

/** Eigenvalues (descending) of a symmetric matrix by cyclic Jacobi rotations: slow but simple and independent. */
function jacobiEigenvalues(g: Matrix): number[] {
  const n = g.rows;
  const a = Float64Array.from(g.data);
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-32 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // Columns p, q, then rows p, q: A <- J^T A J.
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]).sort((x, y) => y - x);
}

/** Squared singular values of A from the eigenvalues of its smaller Gram matrix. */
function referenceSquaredSingularValues(a: Matrix): number[] {
  const g = a.rows >= a.cols ? matmul(transpose(a), a) : matmul(a, transpose(a));
  return jacobiEigenvalues(g);
}

/** Full check of the thin SVD and the values-only path; returns the singular values. */
function checkSvd(a: Matrix, what: string): Float64Array {
  const k = Math.min(a.rows, a.cols);
  const t0 = performance.now();
  const { U, S, V } = svd(a);
  const sv = singularValues(a);
  const ms = performance.now() - t0;
  // Converged sweeps take milliseconds here; the old failure mode spun through every allowed sweep.
  assert.ok(ms < 3000, `${what}: svd + singularValues took ${ms.toFixed(0)} ms`);
  let amax = 0;
  a.data.forEach((v) => (amax = Math.max(amax, Math.abs(v))));
  const unit = amax > 0 ? amax : 1;
  const rec = matmul(scaleCols(U, S), transpose(V));
  assert.ok(maxAbsDiff(rec, a) <= 1e-12 * unit * Math.sqrt(k), `${what}: U S V^T = A (diff ${maxAbsDiff(rec, a)})`);
  assert.ok(maxAbsDiff(matmul(transpose(U), U), identity(k)) < 1e-12, `${what}: U^T U = I`);
  assert.ok(maxAbsDiff(matmul(transpose(V), V), identity(k)) < 1e-12, `${what}: V^T V = I`);
  for (let i = 0; i < k; i++) {
    assert.ok(S[i] >= 0 && (i === 0 || S[i] <= S[i - 1]), `${what}: S descending and non-negative at ${i}`);
    assert.ok(Math.abs(sv[i] - S[i]) <= 1e-12 * unit * k, `${what}: singularValues agrees with svd at ${i}`);
  }
  // Gram eigenvalues are accurate to ~eps ||A||^2, so compare squares on that scale.
  const ref = referenceSquaredSingularValues(a);
  const top = Math.max(ref[0], S[0] * S[0]);
  for (let i = 0; i < k; i++) {
    const diff = Math.abs(S[i] * S[i] - Math.max(ref[i], 0));
    assert.ok(diff <= 1e-11 * top + 1e-300, `${what}: S[${i}]^2 = ${S[i] * S[i]} vs Jacobi ${ref[i]}`);
  }
  return S;
}

const TILINGS: [number, number, number][] = [
  [64, 64, 4], // the case that used to fail
  [64, 64, 1],
  [96, 96, 8],
  [128, 64, 4], // tall
  [32, 96, 4], // wide
  [48, 50, 16], // r does not divide in: uneven repeat counts
  [40, 40, 3],
];

/** Nonzero squared singular values of a Bone tiling, in closed form. */
function tilingSquaredValues(out: number, inn: number, r: number, d: Float32Array): number[] {
  // Closed form: ΔW = D^T E with E[j, c] = [c mod r = j]; E E^T = diag(count_j), so ΔW ΔW^T = D^T diag(count) D and
  // its nonzero eigenvalues are those of diag(sqrt count) D D^T diag(sqrt count) [r, r].
  const count = Array.from({ length: r }, (_, j) => Math.floor((inn - 1 - j) / r) + 1);
  const small = zeros(r, r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let dot = 0;
      for (let o = 0; o < out; o++) dot += d[i * out + o] * d[j * out + o];
      small.data[i * r + j] = Math.sqrt(count[i] * count[j]) * dot;
    }
  }
  return jacobiEigenvalues(small);
}

for (const [out, inn, r] of TILINGS) {
  test(`svd of a Bone tiling [${out}, ${inn}] with r=${r}: rank r, closed-form values, reference agrees`, () => {
    const d = rng.normalArray(r * out);
    const a = boneTiling(out, inn, r, d);
    const S = checkSvd(a, `tiling ${out}x${inn} r=${r}`);
    const rank = Math.min(r, inn, out);
    const closed = tilingSquaredValues(out, inn, r, d);
    for (let i = 0; i < rank; i++) {
      assert.ok(Math.abs(S[i] - Math.sqrt(closed[i])) <= 1e-10 * S[0], `S[${i}] = ${S[i]} vs closed form ${Math.sqrt(closed[i])}`);
    }
    for (let i = rank; i < S.length; i++) assert.ok(S[i] <= 1e-13 * S[0], `S[${i}] = ${S[i]} should vanish (rank ${rank})`);
    assert.is(numericalRank(a), rank);
  });
}

test('singularValues of a [256, 256] tiling with r=4 matches the closed form, fast', () => {
  const d = rng.normalArray(4 * 256);
  const t0 = performance.now();
  const S = singularValues(boneTiling(256, 256, 4, d));
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
  const closed = tilingSquaredValues(256, 256, 4, d);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(S[i] - Math.sqrt(closed[i])) <= 1e-10 * S[0], `S[${i}]`);
  for (let i = 4; i < 256; i++) assert.ok(S[i] <= 1e-13 * S[0], `S[${i}] = ${S[i]}`);
});

test('rank-1 u v^T: one singular value |u| |v|, the rest zero', () => {
  for (const [m, n] of [[128, 128], [50, 7], [7, 50]]) {
    const u = fromArray(m, 1, rng.normalArray(m));
    const v = fromArray(1, n, rng.normalArray(n));
    const S = checkSvd(matmul(u, v), `rank-1 ${m}x${n}`);
    const want = Math.hypot(...u.data) * Math.hypot(...v.data);
    assert.ok(Math.abs(S[0] - want) <= 1e-13 * want, `S[0] = ${S[0]} vs ${want}`);
    assert.ok(S[1] <= 1e-14 * want, `S[1] = ${S[1]}`);
  }
});

test('repeated columns: every column the same vector c gives sqrt(n) |c| and zeros', () => {
  for (const [m, n] of [[30, 30], [40, 12], [12, 40]]) {
    const c = rng.normalArray(m);
    const a = zeros(m, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a.data[i * n + j] = c[i];
    const S = checkSvd(a, `repeated ${m}x${n}`);
    const want = Math.sqrt(n) * Math.hypot(...c);
    assert.ok(Math.abs(S[0] - want) <= 1e-13 * want && S[1] <= 1e-14 * want, `repeated ${m}x${n}: S[0..1] = ${S[0]}, ${S[1]}`);
  }
  // Duplicated column blocks of a full-rank [20, 5] matrix: rank 5 in a [20, 15] matrix.
  const b = fromArray(20, 5, rng.normalArray(100));
  const a = zeros(20, 15);
  for (let i = 0; i < 20; i++) for (let j = 0; j < 15; j++) a.data[i * 15 + j] = b.data[i * 5 + (j % 5)];
  const S = checkSvd(a, 'duplicated blocks');
  assert.is(numericalRank(a), 5, `S = ${Array.from(S)}`);
});

test('all-zero matrices of several shapes: S = 0, orthonormal factors, rank 0', () => {
  for (const [m, n] of [[1, 1], [8, 8], [20, 6], [6, 20]]) {
    const a = zeros(m, n);
    const S = checkSvd(a, `zero ${m}x${n}`);
    assert.ok(S.every((v) => v === 0), `zero ${m}x${n}: S = ${Array.from(S)}`);
    assert.is(numericalRank(a), 0);
  }
});

test('bidiagonals with exact zero diagonals (inside the block and at its end) deflate', () => {
  // d = [1, 0, 1], e = [1, 1]: the zero sits inside; d = [1, 1, 0]: the zero ends the block.
  checkSvd(fromNested([[1, 1, 0], [0, 0, 1], [0, 0, 1]]), 'zero inside');
  const S = checkSvd(fromNested([[1, 1, 0], [0, 1, 1], [0, 0, 0]]), 'zero at end');
  assert.ok(S[2] === 0 || S[2] < 1e-16, `S[2] = ${S[2]}`);
  checkSvd(fromNested([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]), 'shift matrix');
});

test('rank-deficient tilings at extreme magnitudes keep their relative accuracy', () => {
  const base = boneTiling(64, 64, 4);
  const ref = singularValues(base);
  for (const f of [1e-200, 1e200]) {
    const S = singularValues(scale(base, f));
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(S[i] / f - ref[i]) <= 1e-12 * ref[0], `scale ${f}: S[${i}]`);
    for (let i = 4; i < 64; i++) assert.ok(S[i] / f <= 1e-13 * ref[0], `scale ${f}: S[${i}] = ${S[i]}`);
    assert.is(numericalRank(scale(base, f)), 4);
  }
});

test('QR of rank-deficient tilings (OLoRA init, orth): finite, orthonormal Q, upper-triangular R, QR = A', () => {
  for (const [out, inn, r] of [[64, 64, 4], [96, 96, 8], [40, 40, 3], [48, 24, 5]] as const) {
    const a = boneTiling(out, inn, r);
    const { Q, R } = qr(a);
    const what = `[${out}, ${inn}] r=${r}`;
    assert.ok(Q.data.every(Number.isFinite) && R.data.every(Number.isFinite), `${what}: finite factors`);
    assert.ok(maxAbsDiff(matmul(transpose(Q), Q), identity(Q.cols)) < 1e-12, `${what}: Q^T Q = I`);
    assert.ok(maxAbsDiff(matmul(Q, R), a) < 1e-12 * Math.max(1, ...Array.from(a.data, Math.abs)), `${what}: QR = A`);
    for (let i = 0; i < R.rows; i++) for (let c = 0; c < Math.min(i, R.cols); c++) assert.is(R.data[i * R.cols + c], 0, `${what}: R[${i}, ${c}]`);
    for (let i = 0; i < R.rows; i++) assert.ok(R.data[i * R.cols + i] >= 0, `${what}: diag(R) >= 0`);
  }
});

test('numericalRank: tolerance, known small cases, bad rtol', () => {
  assert.is(numericalRank(fromNested([[1, 2, 3], [2, 4, 6], [0, 0, 1]])), 2);
  assert.is(numericalRank(identity(6)), 6);
  assert.is(numericalRank(zeros(0, 4)), 0);
  // diag(1, 1e-3, 1e-9): the tolerance decides what counts.
  const d = scaleCols(identity(3), [1, 1e-3, 1e-9]);
  assert.is(numericalRank(d), 3);
  assert.is(numericalRank(d, 1e-6), 2);
  assert.is(numericalRank(d, 1e-2), 1);
  assert.throws(() => numericalRank(d, -1), /numericalRank rtol must be a finite number >= 0, got -1/);
  assert.throws(() => numericalRank(d, NaN), /numericalRank rtol .* got NaN/);
});

test.run();
