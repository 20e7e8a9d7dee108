/**
 * The Householder reflector shared by QR and the SVD's bidiagonalisation. For x (overwritten with v), LAPACK
 * dlarfg-style: returns [tau, beta] with (I - tau v v^T) x = beta e_1, v[0] = 1 and |v[i]| <= 1; tau = 0 (H = I) when x = 0.
 * The norm is taken of x / max|x|: in rank-deficient matrices the trailing columns hold roundoff remainders as small as
 * 1e-155, whose squares underflow, and an unscaled 2 / |v|^2 then overflows and turns the bidiagonal into NaN.
 */
export function householder(v: Float64Array): [number, number] {
  let scale = 0;
  for (let i = 0; i < v.length; i++) scale = Math.max(scale, Math.abs(v[i]));
  if (scale === 0) return [0, 0];
  let ss = 0;
  for (let i = 0; i < v.length; i++) {
    const t = v[i] / scale;
    ss += t * t;
  }
  const norm = scale * Math.sqrt(ss);
  const x0 = v[0];
  const beta = x0 >= 0 ? -norm : norm;
  const pivot = x0 - beta; // |pivot| = |x0| + norm >= every |x_i|: no overflow below
  let vv = 1;
  for (let i = 1; i < v.length; i++) {
    v[i] /= pivot;
    vv += v[i] * v[i];
  }
  v[0] = 1;
  // tau from v itself (not (beta - x0) / beta): when x is subnormal, norm and beta keep only a few bits, and a tau
  // inconsistent with v makes H non-orthogonal; with v^T v in [1, len] this H is orthogonal to working precision.
  return [2 / vv, beta];
}
