/**
 * LoRA (Hu et al. 2021) as PEFT implements it (lora/layer.py): y = base(x) + s * (x A^T) B^T (+ s * b_B with lora_bias),
 * A [r, in], B [out, r], s = alpha / r or alpha / sqrt(r) (rsLoRA). B @ A is never formed on the forward path.
 * LoraLayer is the core that PiSSA, OLoRA, LoRA-GA (different inits, residual base) and DoRA (subclass) build on.
 */
import * as tf from '@tensorflow/tfjs';
import { addScaled, matmul, roundToFloat32, type Matrix } from '../linalg/matrix';
import { baseForward, matMulFast } from '../ops/linear';
import {
  checkFinite,
  checkInput,
  checkRank,
  checkShape,
  commitMerge,
  countParams,
  initRng,
  requireMerged,
  requireUnmerged,
  tensorToMatrix,
  toVariable,
} from './common';
import type { FieldSpec, FieldTable } from './schema';
import {
  AdapterConfigError,
  type AdapterLayer,
  type AdapterSpec,
  type DoraConfig,
  type LinearBase,
  type LoraCommon,
  type LoraConfig,
  type LoraGaConfig,
  type OloraConfig,
  type PissaConfig,
} from './types';

/** Every config whose layer is a LoRA pair (A, B) with a scaling. */
export type LoraFamilyConfig = LoraConfig | PissaConfig | OloraConfig | DoraConfig | LoraGaConfig;

/** PEFT's scaling: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScaling(cfg: LoraCommon): number {
  return cfg.rslora ? cfg.alpha / Math.sqrt(cfg.r) : cfg.alpha / cfg.r;
}

export const LORA_COMMON_FIELDS: { r: FieldSpec; alpha: FieldSpec; rslora: FieldSpec } = {
  r: { type: 'rank' },
  alpha: { type: 'number' },
  rslora: { type: 'boolean' },
};

/** Checks shared by the LoRA family: shape, PEFT's rank message, finite alpha. */
export function validateLoraCommon(cfg: LoraCommon, shape: { out: number; in: number }, where: string): void {
  checkShape(shape, where);
  checkRank(cfg.r, where);
  checkFinite('alpha', cfg.alpha, where);
  if (typeof cfg.rslora !== 'boolean') throw new AdapterConfigError(`${where}: 'rslora' must be true or false, got ${String(cfg.rslora)}`);
}

/** Initial values for a LoRA pair (float32, row-major), plus whether to keep a copy of them (residual inits). */
export interface LoraInit {
  A: Float32Array; // [r, in]
  B: Float32Array; // [out, r]
  biasB?: Float32Array | null; // [out]
  /** Keep an untouched copy of A and B (PiSSA/OLoRA/LoRA-GA: needed to convert to a LoRA on the original weight). */
  keepInitial?: boolean;
}

export class LoraLayer<C extends LoraFamilyConfig = LoraConfig> implements AdapterLayer<C> {
  readonly kind: C['kind'];
  readonly scaling: number;
  readonly A: tf.Variable<tf.Rank.R2>; // [r, in]
  readonly B: tf.Variable<tf.Rank.R2>; // [out, r]
  readonly biasB: tf.Variable<tf.Rank.R1> | null; // [out]
  protected isMerged = false;
  private readonly init0: { A: tf.Tensor2D; B: tf.Tensor2D } | null;

  constructor(
    readonly base: LinearBase,
    readonly config: C,
    init: LoraInit,
  ) {
    this.kind = config.kind;
    this.scaling = loraScaling(config);
    const { r } = config;
    const out = base.outFeatures;
    const inF = base.inFeatures;
    this.A = toVariable(tf.tensor2d(init.A, [r, inF]));
    this.B = toVariable(tf.tensor2d(init.B, [out, r]));
    this.biasB = init.biasB ? toVariable(tf.tensor1d(init.biasB)) : null;
    this.init0 = init.keepInitial ? { A: tf.tensor2d(init.A, [r, inF]), B: tf.tensor2d(init.B, [out, r]) } : null;
  }

  get merged(): boolean {
    return this.isMerged;
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    checkInput(this.base, x);
    return tf.tidy(() => {
      const y = baseForward(this.base, x); // [N, out]
      if (!this.isMerged) return tf.add(y, this.loraTerm(x)) as tf.Tensor2D;
      // A base without bias cannot absorb lora_bias at merge time, so that term stays live.
      return this.biasB && !this.base.bias ? (tf.add(y, tf.mul(this.biasB, this.scaling)) as tf.Tensor2D) : y;
    });
  }

  /** s * ((x A^T) B^T + b_B) for x [N, in] -> [N, out], two skinny products with plain-matmul gradients. */
  loraTerm(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = matMulFast(x, tf.transpose(this.A)); // [N, r]
      const z = matMulFast(h, tf.transpose(this.B)); // [N, out]
      return tf.mul(this.biasB ? tf.add(z, this.biasB) : z, this.scaling) as tf.Tensor2D;
    });
  }

  /** s * B @ A [out, in]. */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.B, this.A), this.scaling) as tf.Tensor2D);
  }

  mergedWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.add(this.base.weight, this.deltaWeight()) as tf.Tensor2D);
  }

  /** W += s B A and b += s b_B (when the base has a bias; otherwise s b_B stays in the forward). */
  merge(opts: { safe?: boolean } = {}): void {
    requireUnmerged(this);
    const biasB = this.biasB;
    tf.tidy(() => {
      const bias = biasB && this.base.bias ? (tf.add(this.base.bias, tf.mul(biasB, this.scaling)) as tf.Tensor1D) : null;
      commitMerge(this.base, this.mergedWeight(), bias, opts.safe ?? false);
    });
    this.isMerged = true;
  }

  unmerge(): void {
    requireMerged(this);
    tf.tidy(() => {
      this.base.weight.assign(tf.sub(this.base.weight, this.deltaWeight()) as tf.Tensor2D);
      if (this.biasB && this.base.bias) this.base.bias.assign(tf.sub(this.base.bias, tf.mul(this.biasB, this.scaling)) as tf.Tensor1D);
    });
    this.isMerged = false;
  }

  trainableVariables(): tf.Variable[] {
    return this.biasB ? [this.A, this.B, this.biasB] : [this.A, this.B];
  }

  params(): Record<string, tf.Variable> {
    const p: Record<string, tf.Variable> = { lora_A: this.A, lora_B: this.B };
    if (this.biasB) p.lora_B_bias = this.biasB;
    return p;
  }

  numTrainableParams(): number {
    return countParams(this.trainableVariables());
  }

  /** The A, B the residual init produced (new tensors the caller owns), or null when the base was not modified. */
  initialParams(): Record<string, tf.Tensor> | null {
    return this.init0 ? { lora_A: tf.clone(this.init0.A), lora_B: tf.clone(this.init0.B) } : null;
  }

  dispose(): void {
    tf.dispose([this.A, this.B, ...(this.biasB ? [this.biasB] : []), ...(this.init0 ? [this.init0.A, this.init0.B] : [])]);
  }
}

/** PEFT's init of a fresh LoRA pair: kaiming (A ~ U(±1/sqrt(in))), gaussian (A ~ N(0, 1/r)), none (nn.Linear defaults). */
export function loraInitValues(base: LinearBase, cfg: LoraConfig, seed: number): LoraInit {
  const { r } = cfg;
  const out = base.outFeatures;
  const inF = base.inFeatures;
  const ctx = { seed };
  const rngA = initRng(ctx, base, 'lora_A');
  const boundIn = 1 / Math.sqrt(inF); // kaiming_uniform_(a=sqrt(5)) on fan_in = in
  const A = cfg.init === 'gaussian' ? rngA.normalArray(r * inF, 1 / r) : rngA.uniformArray(r * inF, -boundIn, boundIn);
  if (cfg.init !== 'none') {
    return { A, B: new Float32Array(out * r), biasB: cfg.loraBias ? new Float32Array(out) : null };
  }
  // init_lora_weights=False: lora_B keeps nn.Linear(r, out)'s default init, so the adapter is not a no-op.
  const boundR = 1 / Math.sqrt(r);
  const B = initRng(ctx, base, 'lora_B').uniformArray(out * r, -boundR, boundR);
  const biasB = cfg.loraBias ? initRng(ctx, base, 'lora_B_bias').uniformArray(out, -boundR, boundR) : null;
  return { A, B, biasB };
}

/**
 * Residual inits (PiSSA, OLoRA, LoRA-GA): given A0 [r, in] and B0 [out, r] in float64, round them to float32 (what the
 * adapter stores) and compute W_res = W - s * B0 A0 in float64 from those rounded values, so that W_res + s * B A
 * reproduces W as closely as float32 allows. Returns the LoRA init (kept for conversion) and W_res; the caller builds
 * the layer first and only then writes W_res into the base, so a failed create leaves the base untouched.
 */
export function residualInit(base: LinearBase, scaling: number, A0: Matrix, B0: Matrix): { init: LoraInit; wRes: Float32Array } {
  const A = roundToFloat32(A0);
  const B = roundToFloat32(B0);
  const W = tensorToMatrix(base.weight);
  const wRes = addScaled(W, matmul(B, A), -scaling); // [out, in]
  return { init: { A: new Float32Array(A.data), B: new Float32Array(B.data), keepInitial: true }, wRes: new Float32Array(wRes.data) };
}

/** Run an init's decomposition, prefixing any failure with the module and method. */
export function initStep<T>(base: LinearBase, method: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`${base.name}: ${method} init failed: ${(e as Error).message}`);
  }
}

/** Write the residual weight into the base layer (after the adapter exists). */
export function assignResidual(base: LinearBase, wRes: Float32Array): void {
  tf.tidy(() => base.weight.assign(tf.tensor2d(wRes, [base.outFeatures, base.inFeatures])));
}

/** Check r against the number of singular triplets / QR columns a residual init can supply. */
export function checkRankFitsShape(method: string, r: number, shape: { out: number; in: number }, where: string, factor = 1): void {
  const k = Math.min(shape.out, shape.in);
  if (factor * r > k) {
    const need = factor === 1 ? `r=${r}` : `${factor}r=${factor * r}`;
    throw new AdapterConfigError(
      `${where}: ${method} needs ${need} <= min(out_features=${shape.out}, in_features=${shape.in}) = ${k} (the decomposition has only ${k} components)`,
    );
  }
}

export const LORA_FIELDS: FieldTable<LoraConfig> = {
  ...LORA_COMMON_FIELDS,
  init: { type: 'enum', values: ['kaiming', 'gaussian', 'none'] },
  loraBias: { type: 'boolean' },
};

export const LORA: AdapterSpec<LoraConfig> = {
  kind: 'lora',
  defaults: { kind: 'lora', r: 8, alpha: 8, rslora: false, init: 'kaiming', loraBias: false },
  validate(cfg, shape, where) {
    validateLoraCommon(cfg, shape, where);
  },
  numParams(cfg, shape) {
    return cfg.r * (shape.in + shape.out) + (cfg.loraBias ? shape.out : 0);
  },
  create(base, cfg, ctx) {
    return new LoraLayer(base, cfg, loraInitValues(base, cfg, ctx.seed));
  },
};
