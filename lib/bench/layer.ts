/**
 * One adapter layer alone, forward + backward, at the shape the brief fixes: x [2048, 512] through a [512, 512] base,
 * Bone r=64 vs LoRA r=32 (both 32,768 trainable parameters). Three implementations per method:
 *   - naive: tf.matMul with transpose flags and tf's own gradients (what a straightforward tfjs layer does),
 *   - kit: the kit's adapter layer (lib/adapters) as the trainer runs it,
 *   - fused: custom gradients with the frozen W^T cached once, plain products only, and Bone's chunk-sum gradient as
 *     a concat (chunkSum; tf's reshape+sum gradient goes through tile, which is slow on wasm).
 * Each is timed with x constant (the adapter's gradients only, as a PyTorch layer whose input needs no grad) and with x
 * needing a gradient (as every layer but the first inside a model).
 */
import * as tf from '@tensorflow/tfjs';
import { createAdapter } from '../adapters/registry';
import type { AdapterConfig } from '../adapters/types';
import { createLinear } from '../models/linear';
import { Rng } from '../util/random';
import { timeIt } from './timing';

/** The reference figures quoted for this shape (brief): PyTorch on one CPU thread, and a naive tfjs layer on wasm. */
export const PYTORCH_ONE_THREAD_MS = 17;
export const NAIVE_TFJS_QUOTED_MS = 690;

export interface LayerBenchRow {
  bench: 'layer';
  method: 'bone' | 'lora';
  r: number;
  impl: 'naive' | 'kit' | 'fused';
  trainable_params: number;
  x: [number, number];
  w: [number, number];
  /** Whether the input's gradient is computed too. */
  needs_dx: boolean;
  median_ms: number;
  min_ms: number;
  pytorch_ms: number;
}

type GradFn = Parameters<typeof tf.customGrad>[0];

/** Sum of the r-wide chunks of x [N, in] (in % r == 0) -> [N, r]; backward copies dy to every chunk with one concat. */
export function chunkSum(x: tf.Tensor2D, r: number): tf.Tensor2D {
  const [N, inF] = x.shape;
  const k = inF / r;
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.sum(tf.reshape(xi, [N, k, r]), 1), // [N, r]
      gradFunc: (dy: tf.Tensor) => tf.concat(Array.from({ length: k }, () => dy), 1), // [N, in]
    };
  }) as unknown as GradFn);
  return f(x) as tf.Tensor2D;
}

/**
 * Bone y = x W^T + chunkSum(x) D with W^T given ([in, out]) and W ([out, in]) for dx; one custom gradient over the
 * products, chunkSum's own carrying the chunk-sum part of dx back to x. Without needDx, x is a constant of the closure
 * and its gradient is never formed.
 */
export function boneFused(x: tf.Tensor2D, D: tf.Tensor2D, W: tf.Tensor2D, Wt: tf.Tensor2D, needDx = true): tf.Tensor2D {
  const body = (xi: tf.Tensor2D, xsi: tf.Tensor2D, d: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([xsi, d]);
    return {
      value: tf.add(tf.matMul(xi, Wt), tf.matMul(xsi, d)), // [N, out]
      gradFunc: (dy: tf.Tensor, [s, dd]: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        const dD = tf.matMul(tf.transpose(s as tf.Tensor2D), g); // [r, N] x [N, out]
        if (!needDx) return [dD];
        const dxs = tf.matMul(g, tf.transpose(dd as tf.Tensor2D)); // [N, out] x [out, r]
        return [tf.matMul(g, W), dxs, dD]; // [N, in], [N, r], [r, out]
      },
    };
  };
  // tidy drops xs once y exists: the backward passes keep what they need (saved tensors, dy)
  return tf.tidy(() => {
    const xs = chunkSum(x, D.shape[0]); // [N, r]
    if (!needDx) return tf.customGrad(((d: tf.Tensor2D, save: tf.GradSaveFunc) => body(x, xs, d, save)) as unknown as GradFn)(D) as tf.Tensor2D;
    return tf.customGrad(body as unknown as GradFn)(x, xs, D) as tf.Tensor2D;
  });
}

/** LoRA y = x W^T + s (x A^T) B^T with cached W^T; one custom gradient, plain products only (x constant unless needDx). */
export function loraFused(x: tf.Tensor2D, A: tf.Tensor2D, B: tf.Tensor2D, s: number, W: tf.Tensor2D, Wt: tf.Tensor2D, needDx = true): tf.Tensor2D {
  const body = (xi: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const At = tf.transpose(a); // [in, r]
    const Bt = tf.transpose(b); // [r, out]
    const h = tf.matMul(xi, At); // [N, r]
    save([h, At, Bt]);
    return {
      value: tf.add(tf.matMul(xi, Wt), tf.mul(tf.matMul(h, Bt), s)), // [N, out]
      gradFunc: (dy: tf.Tensor, [hs, at, bt]: tf.Tensor[]) => {
        const gs = tf.mul(dy, s) as tf.Tensor2D;
        const dB = tf.transpose(tf.matMul(tf.transpose(hs as tf.Tensor2D), gs)); // ([r, N] x [N, out])^T = [out, r]
        const dh = tf.matMul(gs, tf.transpose(bt as tf.Tensor2D)); // [N, out] x [out, r]
        const dA = tf.transpose(tf.matMul(tf.transpose(xi), dh)); // ([in, N] x [N, r])^T = [r, in]
        if (!needDx) return [dA, dB];
        const dx = tf.add(tf.matMul(dy as tf.Tensor2D, W), tf.matMul(dh, tf.transpose(at as tf.Tensor2D))); // [N, in]
        return [dx, dA, dB];
      },
    };
  };
  if (!needDx) return tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => body(x, a, b, save)) as unknown as GradFn)(A, B) as tf.Tensor2D;
  return tf.customGrad(body as unknown as GradFn)(x, A, B) as tf.Tensor2D;
}

export interface LayerBenchOptions {
  n?: number;
  inFeatures?: number;
  outFeatures?: number;
  boneR?: number;
  loraR?: number;
  runs?: number;
  /** Skip the naive implementation (it is ~10x slower). */
  skipNaive?: boolean;
}

/** Time the single-layer benchmark; returns one row per (method, implementation, needs_dx). */
export function benchLayer(o: LayerBenchOptions = {}): LayerBenchRow[] {
  const N = o.n ?? 2048;
  const inF = o.inFeatures ?? 512;
  const outF = o.outFeatures ?? 512;
  const boneR = o.boneR ?? 64;
  const loraR = o.loraR ?? 32;
  const runs = o.runs ?? 7;
  if (inF % boneR !== 0) throw new Error(`bench layer: Bone r=${boneR} must divide in_features=${inF} for the fused variant`);
  const rng = new Rng(1234);
  const rows: LayerBenchRow[] = [];
  const x = tf.tensor2d(rng.normalArray(N * inF), [N, inF]);
  const xVar = tf.variable(x, true);
  const dy = tf.tensor2d(rng.normalArray(N * outF, 0.01), [N, outF]);
  const wInit = tf.tensor2d(rng.normalArray(outF * inF, 1 / Math.sqrt(inF)), [outF, inF]);
  const configs: AdapterConfig[] = [
    { kind: 'bone', r: boneR },
    { kind: 'lora', r: loraR, alpha: 2 * loraR, rslora: false, init: 'kaiming', loraBias: false },
  ];
  try {
    for (const cfg of configs) {
      const base = createLinear(`bench.${cfg.kind}`, wInit);
      const adapter = createAdapter(base, cfg, { seed: 7 });
      const vars = adapter.trainableVariables();
      // Non-zero adapter weights, so no product is trivially zero.
      for (const v of vars) tf.tidy(() => v.assign(tf.tensor(rng.normalArray(v.size, 0.02), v.shape)));
      const Wt = tf.transpose(base.weight) as tf.Tensor2D;
      const method = cfg.kind as 'bone' | 'lora';
      const r = (cfg as { r: number }).r;
      const impls: [LayerBenchRow['impl'], (xi: tf.Tensor2D, needDx: boolean) => tf.Tensor2D][] = [
        ['kit', (xi) => adapter.forward(xi)],
        [
          'fused',
          cfg.kind === 'bone'
            ? (xi, nd) => boneFused(xi, vars[0] as tf.Tensor2D, base.weight, Wt, nd)
            : (xi, nd) => loraFused(xi, vars[0] as tf.Tensor2D, vars[1] as tf.Tensor2D, 2, base.weight, Wt, nd),
        ],
      ];
      if (!o.skipNaive) {
        impls.unshift([
          'naive',
          cfg.kind === 'bone'
            ? (xi) => tf.add(tf.matMul(xi, base.weight, false, true), tf.matMul(tf.sum(tf.reshape(xi, [N, inF / r, r]), 1) as tf.Tensor2D, vars[0] as tf.Tensor2D))
            : (xi) => tf.add(tf.matMul(xi, base.weight, false, true), tf.mul(tf.matMul(tf.matMul(xi, vars[0] as tf.Tensor2D, false, true), vars[1] as tf.Tensor2D, false, true), 2)),
        ]);
      }
      for (const [impl, fwd] of impls) {
        for (const needsDx of [false, true]) {
          const input = needsDx ? (xVar as tf.Tensor2D) : x;
          const list = needsDx ? [...vars, xVar] : vars;
          const t = timeIt(() => Object.values(tf.variableGrads(() => tf.sum(tf.mul(fwd(input, needsDx), dy)), list).grads), impl === 'naive' ? Math.min(runs, 3) : runs, 1);
          rows.push({ bench: 'layer', method, r, impl, trainable_params: adapter.numTrainableParams(), x: [N, inF], w: [outF, inF], needs_dx: needsDx, median_ms: t.median_ms, min_ms: t.min_ms, pytorch_ms: PYTORCH_ONE_THREAD_MS });
        }
      }
      Wt.dispose();
      adapter.dispose();
      base.dispose();
    }
  } finally {
    tf.dispose([x, xVar, dy, wInit]);
  }
  return rows;
}
