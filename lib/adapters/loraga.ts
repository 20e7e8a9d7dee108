/**
 * LoRA-GA (Wang et al. 2024) as PEFT implements it (lora/layer.py lora_ga_init, PEFT >= 0.19): from the averaged
 * gradient G [out, in] of the base weight, G = U S V^T; of the top 2r triplets, A = V^T[idx_A] and B = U[:, idx_B]
 * diag(S[idx_B]) (PEFT multiplies B by the singular values; the authors' fork does not), then a scale, then
 * base <- W - s B A. PEFT takes a randomized svd_lowrank(G, q=min(4r, min(shape)), niter=4), which is exact when
 * 4r >= min(shape); this uses the exact SVD throughout. weight_svd's sigma_max(W) is exact too (PEFT: approximate).
 */
import * as tf from '@tensorflow/tfjs';
import { pickCols, scale, scaleCols, transpose } from '../linalg/matrix';
import { singularValues, svd } from '../linalg/svd';
import { initRng, tensorToMatrix } from './common';
import {
  LORA_COMMON_FIELDS,
  LoraLayer,
  assignResidual,
  checkRankFitsShape,
  initStep,
  loraScaling,
  residualInit,
  validateLoraCommon,
  type LoraInit,
} from './lora';
import type { FieldTable } from './schema';
import { AdapterConfigError, type AdapterSpec, type CreateContext, type LinearBase, type LoraGaConfig } from './types';

export const LORAGA_FIELDS: FieldTable<LoraGaConfig> = {
  ...LORA_COMMON_FIELDS,
  direction: { type: 'enum', values: ['ArBr', 'A2rBr', 'ArB2r', 'random'] },
  scale: { type: 'enum', values: ['stable', 'weight_svd', 'gd_scale', 'unit'] },
  stableGamma: { type: 'number' },
};

/** A LoRA layer that also records the singular values its B was built from (S[idx_B]). */
export class LoraGaLayer extends LoraLayer<LoraGaConfig> {
  constructor(
    base: LinearBase,
    cfg: LoraGaConfig,
    init: LoraInit,
    /** The gradient's singular values at idx_B, before any scale. */
    readonly initSingularValues: number[],
    readonly indices: { a: number[]; b: number[] },
  ) {
    super(base, cfg, init);
  }
}

/** Which of the top 2r triplets feed A and B for each direction. */
export function loraGaIndices(cfg: LoraGaConfig, ctx: CreateContext, base: LinearBase): { a: number[]; b: number[] } {
  const r = cfg.r;
  const range = (from: number, n: number, step = 1) => Array.from({ length: n }, (_, i) => from + i * step);
  switch (cfg.direction) {
    case 'ArBr':
      return { a: range(1, r, 2), b: range(0, r, 2) };
    case 'A2rBr':
      return { a: range(r, r), b: range(0, r) };
    case 'ArB2r':
      return { a: range(0, r), b: range(r, r) };
    case 'random': {
      if (ctx.loraGaIndices) {
        for (const [k, v] of Object.entries(ctx.loraGaIndices)) {
          if (!Array.isArray(v) || v.length !== r || !v.every((i) => Number.isInteger(i) && i >= 0 && i < 2 * r)) {
            throw new Error(`${base.name}: LoRA-GA loraGaIndices.${k} must be ${r} integers in [0, ${2 * r}), got ${JSON.stringify(v)}`);
          }
        }
        return { a: [...ctx.loraGaIndices.a], b: [...ctx.loraGaIndices.b] };
      }
      // PEFT: one randperm(2r)[:r], shared by A and B.
      const perm = initRng(ctx, base, 'loraga_random').shuffle(range(0, 2 * r)).slice(0, r);
      return { a: perm, b: [...perm] };
    }
  }
}

export const LORAGA: AdapterSpec<LoraGaConfig> = {
  kind: 'loraga',
  defaults: { kind: 'loraga', r: 8, alpha: 8, rslora: false, direction: 'ArB2r', scale: 'stable', stableGamma: 16 },
  validate(cfg, shape, where) {
    validateLoraCommon(cfg, shape, where);
    checkRankFitsShape('LoRA-GA', cfg.r, shape, where, 2);
    if (!(typeof cfg.stableGamma === 'number' && cfg.stableGamma > 0 && Number.isFinite(cfg.stableGamma))) {
      throw new AdapterConfigError(`${where}: LoRA-GA 'stableGamma' must be a positive finite number, got ${String(cfg.stableGamma)}`);
    }
    if (cfg.scale === 'gd_scale' && loraScaling(cfg) === 0) {
      throw new AdapterConfigError(`${where}: LoRA-GA scale 'gd_scale' divides by the scaling, so alpha must be non-zero, got alpha=${cfg.alpha}`);
    }
  },
  numParams(cfg, shape) {
    return cfg.r * (shape.in + shape.out);
  },
  create(base, cfg, ctx) {
    const g = ctx.initGrad;
    if (!g) {
      throw new Error(`${base.name}: LoRA-GA needs the averaged gradient of the base weight (CreateContext.initGrad [${base.outFeatures}, ${base.inFeatures}]); none was given`);
    }
    if (!(g instanceof tf.Tensor) || g.rank !== 2 || g.shape[0] !== base.outFeatures || g.shape[1] !== base.inFeatures) {
      throw new Error(`${base.name}: LoRA-GA initGrad must be [${base.outFeatures}, ${base.inFeatures}], got [${(g as tf.Tensor).shape}]`);
    }
    const s = loraScaling(cfg);
    const { U, S, V } = initStep(base, 'LoRA-GA', () => svd(tensorToMatrix(g)));
    const idx = loraGaIndices(cfg, ctx, base);
    const sB = idx.b.map((i) => S[i]);
    let A0 = transpose(pickCols(V, idx.a)); // [r, in]
    let B0 = scaleCols(pickCols(U, idx.b), sB); // [out, r]
    if (cfg.scale === 'stable') {
      B0 = scale(B0, Math.pow(base.outFeatures, 0.25) / Math.sqrt(cfg.stableGamma));
    } else if (cfg.scale === 'weight_svd') {
      if (!(sB[0] > 0)) throw new Error(`${base.name}: LoRA-GA weight_svd scale divides by S[idx_B[0]] = ${sB[0]} (the gradient is degenerate)`);
      B0 = scale(B0, initStep(base, 'LoRA-GA', () => singularValues(tensorToMatrix(base.weight)))[0] / sB[0]);
    } else if (cfg.scale === 'gd_scale') {
      A0 = scale(A0, 1 / s);
      B0 = scale(B0, 1 / s);
    }
    const { init, wRes } = residualInit(base, s, A0, B0);
    const layer = new LoraGaLayer(base, cfg, init, sB, idx);
    assignResidual(base, wRes);
    return layer;
  },
};
