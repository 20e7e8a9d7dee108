/**
 * Randomized low-rank SVD exactly as torch.svd_lowrank(A, q, niter) computes it (Halko et al. 2009, alg. 5.1, no
 * oversampling), with the Gaussian test matrix passed in so results are reproducible. PEFT's pissa_niter_K uses it, and
 * it is the route for weights too large for the dense SVD (cost O(m n q) per pass instead of O(m n min(m, n))).
 */
import { matmul, transpose, zeros, type Matrix } from './matrix';
import { orth } from './qr';
import { svd, type Svd } from './svd';
import type { Rng } from '../util/random';

/** The shape of the Gaussian test matrix torch draws for an [m, n] input and rank q. */
export function lowRankOmegaShape(m: number, n: number, q: number): [number, number] {
  return m < n || n > q ? [m, q] : [n, q];
}

/**
 * Rank-q approximate SVD of A [m, n]: A ~= U diag(S) V^T, U [m, q], V [n, q].
 * omega: the test matrix (shape lowRankOmegaShape(m, n, q)); drawn from rng when not given.
 * When m < n or n > q torch works on A^T, so the basis Q spans A's row space: Q = orth(A^T omega), then niter times
 * Q = orth(A Q), Q = orth(A^T Q); finally the SVD of A Q gives U, S and V = Q V_small, i.e. U S V^T = A Q Q^T.
 * Otherwise (m >= n and q = n) the basis is the whole row space and the result is the exact SVD.
 */
export function svdLowRank(a: Matrix, q: number, niter: number, omega?: Matrix | null, rng?: Rng): Svd {
  const m = a.rows;
  const n = a.cols;
  if (!Number.isInteger(q) || q < 1 || q > Math.min(m, n)) throw new Error(`linalg: svdLowRank rank q=${q} must be in [1, ${Math.min(m, n)}] for a ${m}x${n} matrix`);
  if (!Number.isInteger(niter) || niter < 0) throw new Error(`linalg: svdLowRank niter must be a non-negative integer, got ${niter}`);
  if (!(m < n || n > q)) {
    const full = svd(a);
    return full;
  }
  let om = omega ?? null;
  if (!om) {
    if (!rng) throw new Error('linalg: svdLowRank needs an explicit omega or an Rng to draw it');
    om = zeros(m, q);
    for (let i = 0; i < om.data.length; i++) om.data[i] = rng.normal();
  }
  if (om.rows !== m || om.cols !== q) throw new Error(`linalg: svdLowRank omega must be [${m}, ${q}] for a ${m}x${n} matrix and q=${q}, got [${om.rows}, ${om.cols}]`);
  const at = transpose(a); // [n, m]
  let Q = orth(matmul(at, om)); // [n, q]
  for (let i = 0; i < niter; i++) {
    Q = orth(matmul(a, Q)); // [m, q]
    Q = orth(matmul(at, Q)); // [n, q]
  }
  const small = svd(matmul(a, Q)); // A Q [m, q] = U S Vs^T
  return { U: small.U, S: small.S, V: matmul(Q, small.V) }; // V [n, q]
}
