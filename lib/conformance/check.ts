/** Field-by-field comparison with the conformance tolerance: max |got - want| <= tol * max(1, max |want|). */
import * as tf from '@tensorflow/tfjs';

export const CONFORMANCE_TOL = 1e-4;

function flatten(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const e of v) flatten(e, out);
  else if (ArrayBuffer.isView(v)) out.push(...Array.from(v as unknown as ArrayLike<number>));
  else throw new Error(`not numeric: ${JSON.stringify(v)?.slice(0, 60)}`);
  return out;
}

function nestedShape(v: unknown): number[] {
  const s: number[] = [];
  let x = v;
  while (Array.isArray(x)) {
    s.push(x.length);
    x = x[0];
  }
  return s;
}

export class FieldChecker {
  /** Worst relative error over all compared fields. */
  worst = 0;
  readonly failures: string[] = [];
  readonly checked: string[] = [];

  constructor(readonly tol = CONFORMANCE_TOL) {}

  /** Compare a tensor (or numbers) with the expected nested list; a tensor's shape must match the list's. */
  compare(field: string, got: tf.Tensor | number | number[] | Float32Array, want: unknown): void {
    this.checked.push(field);
    let g: number[];
    if (got instanceof tf.Tensor) {
      const ws = nestedShape(want);
      if (ws.length > 0 && got.shape.join(',') !== ws.join(',')) {
        this.failures.push(`${field}: shape [${got.shape}] but expected [${ws}]`);
        this.worst = Infinity;
        return;
      }
      g = Array.from(got.dataSync());
    } else {
      g = flatten(got);
    }
    const w = flatten(want);
    if (g.length !== w.length) {
      this.failures.push(`${field}: ${g.length} values but expected ${w.length}`);
      this.worst = Infinity;
      return;
    }
    let diff = 0;
    let scale = 1;
    for (let i = 0; i < w.length; i++) {
      const d = Math.abs(g[i] - w[i]);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
      scale = Math.max(scale, Math.abs(w[i]));
    }
    const rel = diff / scale;
    this.worst = Math.max(this.worst, rel);
    if (!(rel <= this.tol)) this.failures.push(`${field}: relative error ${rel.toExponential(2)} > ${this.tol}`);
  }

  /** A yes/no property (e.g. "lora_B is all zeros"). */
  require(field: string, ok: boolean, detail: string): void {
    this.checked.push(field);
    if (!ok) this.failures.push(`${field}: ${detail}`);
  }
}
