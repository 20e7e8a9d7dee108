/** The adapter cases every property test runs over; method quirks live here as data, never in test bodies. */
import * as tf from '@tensorflow/tfjs';
import { createAdapter } from '../../lib/adapters/registry';
import type { AdapterConfig, AdapterLayer, CreateContext } from '../../lib/adapters/types';
import { createLinear, type LinearLayer } from '../../lib/models/linear';
import { Rng } from '../../lib/util/random';

export interface AdapterCase {
  name: string;
  cfg: AdapterConfig;
  /** [out, in] of the base linear. */
  shape: [number, number];
  bias: boolean;
  /** At creation the layer computes exactly the original linear (output and merged weight). */
  identityAtInit: boolean;
  /** The init rewrites the base weight (residual methods). */
  modifiesBase: boolean;
  /** Needs CreateContext.initGrad (LoRA-GA). */
  needsGrad: boolean;
  /** Std of the noise added to every trainable variable to leave the init point before merge checks. */
  perturb: number;
}

const LORA = { rslora: false, init: 'kaiming', loraBias: false } as const;

export const CASES: AdapterCase[] = [
  { name: 'lora r=4', cfg: { kind: 'lora', r: 4, alpha: 8, ...LORA }, shape: [12, 10], bias: true, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  {
    name: 'lora rslora gaussian lora_bias r=3',
    cfg: { kind: 'lora', r: 3, alpha: 5, rslora: true, init: 'gaussian', loraBias: true },
    shape: [9, 7],
    bias: true,
    identityAtInit: true,
    modifiesBase: false,
    needsGrad: false,
    perturb: 0.2,
  },
  {
    name: 'lora lora_bias on a base without bias',
    cfg: { kind: 'lora', r: 2, alpha: 4, rslora: false, init: 'kaiming', loraBias: true },
    shape: [5, 6],
    bias: false,
    identityAtInit: true,
    modifiesBase: false,
    needsGrad: false,
    perturb: 0.2,
  },
  {
    name: 'lora init none (not a no-op) r > in',
    cfg: { kind: 'lora', r: 8, alpha: 8, rslora: false, init: 'none', loraBias: false },
    shape: [6, 5],
    bias: false,
    identityAtInit: false,
    modifiesBase: false,
    needsGrad: false,
    perturb: 0.2,
  },
  { name: 'pissa r=3', cfg: { kind: 'pissa', r: 3, alpha: 6, rslora: false, niter: null }, shape: [10, 14], bias: true, identityAtInit: true, modifiesBase: true, needsGrad: false, perturb: 0.2 },
  { name: 'pissa niter=2 rslora', cfg: { kind: 'pissa', r: 4, alpha: 4, rslora: true, niter: 2 }, shape: [14, 10], bias: false, identityAtInit: true, modifiesBase: true, needsGrad: false, perturb: 0.2 },
  { name: 'olora r=3', cfg: { kind: 'olora', r: 3, alpha: 6, rslora: false }, shape: [10, 14], bias: true, identityAtInit: true, modifiesBase: true, needsGrad: false, perturb: 0.2 },
  { name: 'dora r=3', cfg: { kind: 'dora', r: 3, alpha: 6, rslora: false }, shape: [10, 8], bias: true, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  {
    name: 'loraga ArB2r stable',
    cfg: { kind: 'loraga', r: 2, alpha: 4, rslora: false, direction: 'ArB2r', scale: 'stable', stableGamma: 16 },
    shape: [8, 12],
    bias: false,
    identityAtInit: true,
    modifiesBase: true,
    needsGrad: true,
    perturb: 0.2,
  },
  {
    name: 'loraga random gd_scale rslora',
    cfg: { kind: 'loraga', r: 3, alpha: 3, rslora: true, direction: 'random', scale: 'gd_scale', stableGamma: 16 },
    shape: [12, 8],
    bias: true,
    identityAtInit: true,
    modifiesBase: true,
    needsGrad: true,
    perturb: 0.2,
  },
  { name: 'bone r=3 (in % r = 1)', cfg: { kind: 'bone', r: 3 }, shape: [8, 10], bias: true, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  { name: 'bone r=12 > in=10', cfg: { kind: 'bone', r: 12 }, shape: [6, 10], bias: false, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  { name: 'mini r=4 mini_r=2', cfg: { kind: 'mini', r: 4, miniR: 2 }, shape: [8, 10], bias: true, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  { name: 'bat out-block r=2', cfg: { kind: 'bat', r: 2, convention: 'out-block' }, shape: [8, 6], bias: true, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  { name: 'bat in-block r=3', cfg: { kind: 'bat', r: 3, convention: 'in-block' }, shape: [6, 9], bias: false, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
  { name: 'full', cfg: { kind: 'full' }, shape: [6, 5], bias: true, identityAtInit: true, modifiesBase: false, needsGrad: false, perturb: 0.2 },
];

export interface Built {
  base: LinearLayer;
  layer: AdapterLayer;
  /** The base weight before the adapter was created [out, in]. */
  w0: Float32Array;
  dispose(): void;
}

/** A fresh base linear (seeded) with the case's adapter on it. */
export function build(c: AdapterCase, seed = 1): Built {
  const [out, inF] = c.shape;
  const rng = new Rng(1000 + seed);
  const w0 = rng.normalArray(out * inF, 0.5);
  const owned: tf.Tensor[] = [tf.tensor2d(w0, [out, inF])];
  if (c.bias) owned.push(tf.tensor1d(rng.normalArray(out, 0.5)));
  const base = createLinear('model.layers.0.mlp.up_proj', owned[0] as tf.Tensor2D, c.bias ? (owned[1] as tf.Tensor1D) : null);
  const ctx: CreateContext = { seed };
  if (c.needsGrad) owned.push((ctx.initGrad = tf.tensor2d(rng.normalArray(out * inF), [out, inF])));
  let layer: AdapterLayer;
  try {
    layer = createAdapter(base, c.cfg, ctx);
  } finally {
    tf.dispose(owned);
  }
  return {
    base,
    layer,
    w0,
    dispose() {
      layer.dispose();
      base.dispose();
    },
  };
}

/** Add std * N(0, 1) to every trainable variable (seeded), leaving the init point. */
export function perturb(layer: AdapterLayer, std: number, seed = 5): void {
  const rng = new Rng(seed);
  for (const v of layer.trainableVariables()) {
    tf.tidy(() => v.assign(tf.add(v, tf.tensor(rng.normalArray(v.size, std), v.shape))));
  }
}

export function input(c: AdapterCase, n = 5, seed = 3): { x: tf.Tensor2D; g: tf.Tensor2D } {
  const rng = new Rng(seed);
  return { x: tf.tensor2d(rng.normalArray(n * c.shape[1]), [n, c.shape[1]]), g: tf.tensor2d(rng.normalArray(n * c.shape[0]), [n, c.shape[0]]) };
}

/** The original linear's output x W0^T + b. */
export function originalForward(b: Built, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const y = tf.matMul(x, tf.tensor2d(b.w0, b.base.weight.shape), false, true); // [N, out]
    return (b.base.bias ? tf.add(y, b.base.bias) : y) as tf.Tensor2D;
  });
}
