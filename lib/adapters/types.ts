/**
 * The one interface every adapter implements, mirroring PEFT's tuner layer contract
 * (get_delta_weight / merge / unmerge / adapter_layer_names). Configs are plain JSON-serialisable objects
 * discriminated on `kind`; PEFT's own config keys are mapped in lib/peft/config.ts.
 */
import type * as tf from '@tensorflow/tfjs';

/** A frozen base linear layer in PyTorch layout: y = x W^T + b. */
export interface LinearBase {
  /** Module path, HF style (e.g. `model.layers.0.self_attn.q_proj`); used in error messages and file keys. */
  readonly name: string;
  /** Weight [out, in]. A variable so PiSSA/OLoRA/LoRA-GA can assign the residual and merge can write in place. */
  readonly weight: tf.Variable<tf.Rank.R2>;
  /** Bias [out] or null. */
  readonly bias: tf.Variable<tf.Rank.R1> | null;
  readonly outFeatures: number;
  readonly inFeatures: number;
}

/** Block-affine family: Bone (= PEFT MiSS default), its mini variant, and Bat (the paper's v1 "Bone"). */
export interface BoneConfig {
  kind: 'bone';
  /** Block size r: the input is folded into r-wide chunks; block is [r, out]. Any r >= 1, need not divide in. */
  r: number;
}
export interface MiniConfig {
  kind: 'mini';
  r: number;
  /** Width of the shared block [r, miniR], tiled along out; out % miniR must be 0. */
  miniR: number;
}
export interface BatConfig {
  kind: 'bat';
  /** Tile size r; must divide both in and out. */
  r: number;
  /**
   * 'out-block': PEFT's convention, block [out/r, r, r] shared along each output block row (Bat-Col).
   * 'in-block': the author's RWKV-PEFT convention, block [in/r, r, r] shared along each input block column (Bat-Row).
   */
  convention: 'out-block' | 'in-block';
}
/** Fields shared by LoRA and the methods built on it. */
export interface LoraCommon {
  r: number;
  alpha: number;
  /** rsLoRA: scaling alpha / sqrt(r) instead of alpha / r. */
  rslora: boolean;
}
export interface LoraConfig extends LoraCommon {
  kind: 'lora';
  /** A init: 'kaiming' = PEFT default U(±1/sqrt(in)); 'gaussian' = N(0, (1/r)^2); 'none' = nn.Linear default init for A and B (not a no-op). */
  init: 'kaiming' | 'gaussian' | 'none';
  /** PEFT lora_bias: a trainable bias on lora_B. */
  loraBias: boolean;
}
export interface PissaConfig extends LoraCommon {
  kind: 'pissa';
  /** null: exact SVD ('pissa'); K: randomized range finder with K power iterations ('pissa_niter_K'). */
  niter: number | null;
}
export interface OloraConfig extends LoraCommon {
  kind: 'olora';
}
export interface DoraConfig extends LoraCommon {
  kind: 'dora';
}
export interface LoraGaConfig extends LoraCommon {
  kind: 'loraga';
  direction: 'ArBr' | 'A2rBr' | 'ArB2r' | 'random';
  scale: 'stable' | 'weight_svd' | 'gd_scale' | 'unit';
  stableGamma: number;
}
export interface FullConfig {
  kind: 'full';
}

export type AdapterConfig =
  | BoneConfig
  | MiniConfig
  | BatConfig
  | LoraConfig
  | PissaConfig
  | OloraConfig
  | DoraConfig
  | LoraGaConfig
  | FullConfig;
export type AdapterKind = AdapterConfig['kind'];

/** Extra inputs some inits need; all optional, all deterministic. */
export interface CreateContext {
  /** Seed for random inits (derived per module with deriveSeed(seed, base.name)). */
  seed: number;
  /** LoRA-GA: the averaged gradient of the base weight [out, in]. */
  initGrad?: tf.Tensor2D;
  /** pissa_niter_K: an explicit Gaussian test matrix [out, r] (as torch.svd_lowrank draws), for reproducible results. */
  omega?: number[][];
  /** LoRA-GA 'random' direction: explicit index sets into the top 2r triplets (else drawn from the seed). */
  loraGaIndices?: { a: number[]; b: number[] };
}

/** An adapter attached to one base linear layer. */
export interface AdapterLayer<C extends AdapterConfig = AdapterConfig> {
  readonly kind: C['kind'];
  readonly config: C;
  readonly base: LinearBase;
  /** True after merge() until unmerge(). */
  readonly merged: boolean;
  /** Full layer output y = base(x) + adapter(x) for x [N, in] -> [N, out]; only the base when merged. */
  forward(x: tf.Tensor2D): tf.Tensor2D;
  /** The additive update ΔW [out, in] at the current parameters (merged weight = W + ΔW; DoRA: see merge). */
  deltaWeight(): tf.Tensor2D;
  /** The merged weight [out, in] without touching the base (what merge() would write). */
  mergedWeight(): tf.Tensor2D;
  /** Write the merged weight into base.weight. safe: compute on a copy, throw if non-finite, leave base untouched. */
  merge(opts?: { safe?: boolean }): void;
  /** Exactly undo merge() (Bat: (W' - B)(I + B)^-1; DoRA: uses the norm cached at merge time). */
  unmerge(): void;
  /** The variables an optimiser updates. */
  trainableVariables(): tf.Variable[];
  /** Adapter tensors under PEFT's names (lora_A, lora_B, lora_B_bias, lora_magnitude_vector, miss_block). */
  params(): Record<string, tf.Variable>;
  /** Trainable parameter count, from the actual variable sizes. */
  numTrainableParams(): number;
  /**
   * Residual inits (PiSSA, OLoRA, LoRA-GA) only: the A0/B0 the init produced, under PEFT names (new tensors the caller
   * disposes), needed to convert to a LoRA on the original weight. Absent or null for other methods.
   */
  initialParams?(): Record<string, tf.Tensor> | null;
  dispose(): void;
}

/** The shape an adapter is checked and counted against; bias matters only to full fine-tuning's count. */
export interface AdapterShape {
  out: number;
  in: number;
  /** Whether the layer has a bias (full fine-tuning trains it too). Default false. */
  bias?: boolean;
}

/** One adapter method: defaults, validation, closed-form parameter count, and a factory. */
export interface AdapterSpec<C extends AdapterConfig = AdapterConfig> {
  readonly kind: C['kind'];
  readonly defaults: C;
  /** Throw an AdapterConfigError naming the module (`where`), the field and the value when cfg cannot apply to shape. */
  validate(cfg: C, shape: AdapterShape, where: string): void;
  /** Closed-form trainable parameter count for one [out, in] linear (must equal the created layer's count). */
  numParams(cfg: C, shape: AdapterShape): number;
  create(base: LinearBase, cfg: C, ctx: CreateContext): AdapterLayer<C>;
}

/** A configuration that cannot be applied; the message names the module, field and value. */
export class AdapterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterConfigError';
  }
}
