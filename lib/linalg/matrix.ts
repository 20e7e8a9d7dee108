/**
 * Dense float64 matrices for the init-time linear algebra TensorFlow.js lacks (SVD, QR, solves).
 * Row-major Float64Array storage; every helper returns a new matrix and never mutates its inputs.
 */

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major: element (i, j) is data[i * cols + j]. */
  readonly data: Float64Array;
}

export function zeros(rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new Error(`linalg: invalid matrix shape [${rows}, ${cols}]`);
  }
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** Wrap (copying) row-major data of the given shape. */
export function fromArray(rows: number, cols: number, data: ArrayLike<number>): Matrix {
  if (data.length !== rows * cols) throw new Error(`linalg: ${data.length} values cannot fill a [${rows}, ${cols}] matrix`);
  return { rows, cols, data: Float64Array.from(data) };
}

/** From nested row lists (all rows the same length). */
export function fromNested(a: number[][]): Matrix {
  const rows = a.length;
  const cols = rows ? a[0].length : 0;
  const m = zeros(rows, cols);
  for (let i = 0; i < rows; i++) {
    if (a[i].length !== cols) throw new Error(`linalg: ragged nested matrix (row 0 has ${cols} entries, row ${i} has ${a[i].length})`);
    for (let j = 0; j < cols; j++) m.data[i * cols + j] = a[i][j];
  }
  return m;
}

export function toNested(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

export function transpose(a: Matrix): Matrix {
  const t = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

/** a [m, k] x b [k, n] -> [m, n] (i-k-j loop order: contiguous inner loop). */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error(`linalg: matmul shape mismatch [${a.rows}, ${a.cols}] x [${b.rows}, ${b.cols}]`);
  const { rows: m, cols: k } = a;
  const n = b.cols;
  const c = zeros(m, n);
  const A = a.data;
  const B = b.data;
  const C = c.data;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) C[ci + j] += aip * B[bp + j];
    }
  }
  return c;
}

/** a + alpha * b (same shape). */
export function addScaled(a: Matrix, b: Matrix, alpha: number): Matrix {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`linalg: shape mismatch [${a.rows}, ${a.cols}] vs [${b.rows}, ${b.cols}]`);
  const c = zeros(a.rows, a.cols);
  for (let i = 0; i < c.data.length; i++) c.data[i] = a.data[i] + alpha * b.data[i];
  return c;
}

export function scale(a: Matrix, alpha: number): Matrix {
  const c = zeros(a.rows, a.cols);
  for (let i = 0; i < c.data.length; i++) c.data[i] = alpha * a.data[i];
  return c;
}

/** The listed rows, in order. */
export function pickRows(a: Matrix, idx: readonly number[]): Matrix {
  const c = zeros(idx.length, a.cols);
  idx.forEach((r, i) => {
    if (!(r >= 0 && r < a.rows)) throw new Error(`linalg: row index ${r} out of range [0, ${a.rows})`);
    c.data.set(a.data.subarray(r * a.cols, (r + 1) * a.cols), i * a.cols);
  });
  return c;
}

/** The listed columns, in order. */
export function pickCols(a: Matrix, idx: readonly number[]): Matrix {
  const c = zeros(a.rows, idx.length);
  idx.forEach((col, j) => {
    if (!(col >= 0 && col < a.cols)) throw new Error(`linalg: column index ${col} out of range [0, ${a.cols})`);
    for (let i = 0; i < a.rows; i++) c.data[i * idx.length + j] = a.data[i * a.cols + col];
  });
  return c;
}

/** diag(d) a: row i scaled by d[i]. */
export function scaleRows(a: Matrix, d: ArrayLike<number>): Matrix {
  if (d.length !== a.rows) throw new Error(`linalg: scaleRows needs ${a.rows} factors, got ${d.length}`);
  const c = zeros(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) c.data[i * a.cols + j] = d[i] * a.data[i * a.cols + j];
  return c;
}

/** a diag(d): column j scaled by d[j]. */
export function scaleCols(a: Matrix, d: ArrayLike<number>): Matrix {
  if (d.length !== a.cols) throw new Error(`linalg: scaleCols needs ${a.cols} factors, got ${d.length}`);
  const c = zeros(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) c.data[i * a.cols + j] = d[j] * a.data[i * a.cols + j];
  return c;
}

/** Round every entry to float32 (what a tf.Tensor will hold). */
export function roundToFloat32(a: Matrix): Matrix {
  return { rows: a.rows, cols: a.cols, data: Float64Array.from(new Float32Array(a.data)) };
}

/** Throw naming `what` when any entry is NaN or infinite (decompositions would not converge). */
export function assertFinite(a: Matrix, what: string): void {
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i])) {
      throw new Error(`linalg: ${what} input [${a.rows}, ${a.cols}] has a non-finite entry ${a.data[i]} at (${Math.floor(i / a.cols)}, ${i % a.cols})`);
    }
  }
}

/** max |a - b|. */
export function maxAbsDiff(a: Matrix, b: Matrix): number {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`linalg: shape mismatch [${a.rows}, ${a.cols}] vs [${b.rows}, ${b.cols}]`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Frobenius norm. */
export function frobenius(a: Matrix): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * a.data[i];
  return Math.sqrt(s);
}
