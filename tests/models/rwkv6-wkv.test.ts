/** WKV6: the direct scan and the chunked form against a plain float64 per-step implementation, values and gradients. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../util';
import { wkv6Chunked, wkv6Scan, type WkvInputs, type WkvOutputs } from '../../lib/models/rwkv6-wkv';
import { Rng } from '../../lib/util/random';

test.before(async () => {
  await setupBackend();
});

interface Case {
  G: number;
  T: number;
  N: number;
  r: Float64Array;
  k: Float64Array;
  v: Float64Array;
  lw: Float64Array;
  u: Float64Array;
  s0: Float64Array;
}

/** Random inputs; raw decays in [lo, hi] give lw = -exp(raw). */
function makeCase(seed: number, G: number, T: number, N: number, lo = -3, hi = 1): Case {
  const rng = new Rng(seed);
  const n = G * T * N;
  const arr = (len: number, f: () => number) => Float64Array.from({ length: len }, f);
  return {
    G, T, N,
    r: arr(n, () => rng.normal()),
    k: arr(n, () => rng.normal()),
    v: arr(n, () => rng.normal()),
    lw: arr(n, () => -Math.exp(rng.uniform(lo, hi))),
    u: arr(G * N, () => rng.normal() * 0.5),
    s0: arr(G * N * N, () => rng.normal() * 0.3),
  };
}

/** Plain per-step recurrence in float64: y_t = r_t (diag(u) k_t^T v_t + S), S = diag(exp(lw_t)) S + k_t^T v_t. */
function refWkv(c: Case): { y: Float64Array; S: Float64Array } {
  const { G, T, N } = c;
  const y = new Float64Array(G * T * N);
  const S = Float64Array.from(c.s0);
  for (let g = 0; g < G; g++)
    for (let t = 0; t < T; t++) {
      const o = (g * T + t) * N;
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let i = 0; i < N; i++) acc += c.r[o + i] * (c.u[g * N + i] * c.k[o + i] * c.v[o + j] + S[(g * N + i) * N + j]);
        y[o + j] = acc;
      }
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) {
          const si = (g * N + i) * N + j;
          S[si] = Math.exp(c.lw[o + i]) * S[si] + c.k[o + i] * c.v[o + j];
        }
    }
  return { y, S };
}

function toInputs(c: Case, withState = true): WkvInputs {
  const s = [c.G, c.T, c.N] as [number, number, number];
  return {
    r: tf.tensor3d(Float32Array.from(c.r), s),
    k: tf.tensor3d(Float32Array.from(c.k), s),
    v: tf.tensor3d(Float32Array.from(c.v), s),
    lw: tf.tensor3d(Float32Array.from(c.lw), s),
    u: tf.tensor2d(Float32Array.from(c.u), [c.G, c.N]),
    s0: withState ? tf.tensor3d(Float32Array.from(c.s0), [c.G, c.N, c.N]) : null,
  };
}

function disposeInputs(x: WkvInputs): void {
  tf.dispose([x.r, x.k, x.v, x.lw, x.u, ...(x.s0 ? [x.s0] : [])]);
}

const FORMS: [string, (x: WkvInputs) => WkvOutputs][] = [
  ['scan', wkv6Scan],
  ['chunked L=4 factored', (x) => wkv6Chunked(x, 4, 'factored')],
  ['chunked L=4 exact', (x) => wkv6Chunked(x, 4, 'exact')],
  ['chunked L=1', (x) => wkv6Chunked(x, 1)],
  ['chunked L=16 (> T)', (x) => wkv6Chunked(x, 16)],
];

test('scan and chunked forms match the float64 per-step recurrence (T not a multiple of L, with initial state)', async () => {
  const c = makeCase(1, 3, 13, 5);
  const ref = refWkv(c);
  await assertNoLeak('wkv forward', () => {
    const x = toInputs(c);
    for (const [name, f] of FORMS) {
      const out = f(x);
      assertClose(out.y.dataSync(), ref.y, 1e-4, `${name} y`);
      assertClose(out.state.dataSync(), ref.S, 1e-4, `${name} final state`);
      tf.dispose([out.y, out.state]);
    }
    disposeInputs(x);
  });
});

test('zero initial state when s0 is absent', () => {
  const c = makeCase(2, 2, 7, 4);
  c.s0.fill(0);
  const ref = refWkv(c);
  const x = toInputs(c, false);
  const a = wkv6Chunked(x, 3);
  assertClose(a.y.dataSync(), ref.y, 1e-4, 'y');
  assertClose(a.state.dataSync(), ref.S, 1e-4, 'state');
  tf.dispose([a.y, a.state]);
  disposeInputs(x);
});

test('chunked form stays finite and exact under very strong decays (cumulative log decay far below float32 range)', () => {
  // raw decay up to e^4 = 55 per step: a 16-step chunk accumulates ~-900, beyond what the factored product can hold.
  const c = makeCase(3, 2, 32, 4, 2, 4);
  const ref = refWkv(c);
  const x = toInputs(c);
  const forced = wkv6Chunked(x, 16, 'factored');
  assert.not.ok(forced.y.dataSync().every(Number.isFinite), 'the factored product alone overflows here (why auto falls back)');
  const out = wkv6Chunked(x, 16); // auto
  const y = out.y.dataSync();
  assert.ok(y.every(Number.isFinite), 'finite y');
  assertClose(y, ref.y, 1e-4, 'strong-decay y');
  assertClose(out.state.dataSync(), ref.S, 1e-4, 'strong-decay state');
  const g = tf.grads((lw: tf.Tensor, k: tf.Tensor) => {
    const o = wkv6Chunked({ ...x, lw: lw as tf.Tensor3D, k: k as tf.Tensor3D }, 16);
    return tf.add(tf.sum(o.y), tf.sum(o.state));
  })([x.lw, x.k]);
  for (const t of g) assert.ok(t.dataSync().every(Number.isFinite), 'finite gradients');
  tf.dispose([forced.y, forced.state, out.y, out.state, ...g]);
  disposeInputs(x);
});

/** L = sum(y * gy) + sum(S_T * gS) on the float64 reference, for central differences. */
function refObjective(c: Case, gy: Float64Array, gS: Float64Array): number {
  const { y, S } = refWkv(c);
  let L = 0;
  for (let i = 0; i < y.length; i++) L += y[i] * gy[i];
  for (let i = 0; i < S.length; i++) L += S[i] * gS[i];
  return L;
}

const INPUT_KEYS = ['r', 'k', 'v', 'lw', 'u', 's0'] as const;

test('gradients of both forms match central differences of the float64 recurrence', async () => {
  const c = makeCase(4, 2, 6, 3, -2, 0.5);
  const rng = new Rng(99);
  const gy = Float64Array.from({ length: c.G * c.T * c.N }, () => rng.normal());
  const gS = Float64Array.from({ length: c.G * c.N * c.N }, () => rng.normal());
  // Numeric gradients: exact float64 arithmetic, h = 1e-6.
  const numeric: Record<string, Float64Array> = {};
  for (const key of INPUT_KEYS) {
    const arr = c[key];
    const g = new Float64Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const keep = arr[i];
      arr[i] = keep + 1e-6;
      const up = refObjective(c, gy, gS);
      arr[i] = keep - 1e-6;
      const dn = refObjective(c, gy, gS);
      arr[i] = keep;
      g[i] = (up - dn) / 2e-6;
    }
    numeric[key] = g;
  }
  await assertNoLeak('wkv gradients', () => {
    const x = toInputs(c);
    const gyT = tf.tensor3d(Float32Array.from(gy), [c.G, c.T, c.N]);
    const gST = tf.tensor3d(Float32Array.from(gS), [c.G, c.N, c.N]);
    for (const [name, f] of FORMS) {
      const grads = tf.grads((r: tf.Tensor, k: tf.Tensor, v: tf.Tensor, lw: tf.Tensor, u: tf.Tensor, s0: tf.Tensor) => {
        const o = f({ r, k, v, lw, u, s0 } as WkvInputs);
        return tf.add(tf.sum(tf.mul(o.y, gyT)), tf.sum(tf.mul(o.state, gST)));
      })([x.r, x.k, x.v, x.lw, x.u, x.s0!]);
      INPUT_KEYS.forEach((key, i) => assertClose(grads[i].dataSync(), numeric[key], 2e-4, `${name} dL/d${key}`));
      tf.dispose(grads);
    }
    tf.dispose([gyT, gST]);
    disposeInputs(x);
  });
});

test('shape errors name the input and both shapes', () => {
  const c = makeCase(5, 2, 4, 3);
  const x = toInputs(c);
  const badK = tf.zeros([2, 5, 3]) as tf.Tensor3D;
  assert.throws(() => wkv6Chunked({ ...x, k: badK }), /k has shape \[2,5,3\] but r has \[2,4,3\]/);
  assert.throws(() => wkv6Scan({ ...x, u: tf.zeros([3, 3]) as tf.Tensor2D }), /u has shape \[3,3\], expected \[2, 3\]/);
  assert.throws(() => wkv6Chunked(x, 0), /chunkLen must be a positive integer, got 0/);
  tf.dispose([badK]);
  disposeInputs(x);
});

test.run();
