/**
 * PiSSA (Meng et al. 2024) as PEFT's pissa_init: A = diag(sqrt(S_r / s)) Vh_r, B = U_r diag(sqrt(S_r / s)), so that
 * s B A is exactly the rank-r principal part U_r S_r Vh_r, and the base weight becomes the residual W - s B A.
 * niter = null: exact SVD ('pissa'); niter = K: torch.svd_lowrank(W, q=r, niter=K) ('pissa_niter_K') with the test
 * matrix from ctx.omega or the seeded Rng. Forward, delta, merge and unmerge are plain LoRA on the residual.
 */
import { fromNested, pickCols, scaleCols, scaleRows, transpose } from '../linalg/matrix';
import { lowRankOmegaShape, svdLowRank } from '../linalg/lowrank';
import { svd, type Svd } from '../linalg/svd';
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
} from './lora';
import type { FieldTable } from './schema';
import { AdapterConfigError, type AdapterSpec, type PissaConfig } from './types';

export const PISSA_FIELDS: FieldTable<PissaConfig> = { ...LORA_COMMON_FIELDS, niter: { type: 'count-or-null' } };

export const PISSA: AdapterSpec<PissaConfig> = {
  kind: 'pissa',
  defaults: { kind: 'pissa', r: 8, alpha: 8, rslora: false, niter: null },
  validate(cfg, shape, where) {
    validateLoraCommon(cfg, shape, where);
    checkRankFitsShape('PiSSA', cfg.r, shape, where);
    if (!(loraScaling(cfg) > 0)) {
      throw new AdapterConfigError(`${where}: PiSSA needs alpha > 0 (it splits sqrt(S_r / scaling) over A and B), got alpha=${cfg.alpha}`);
    }
    if (cfg.niter !== null && !(Number.isInteger(cfg.niter) && cfg.niter >= 0)) {
      throw new AdapterConfigError(`${where}: PiSSA 'niter' must be null (exact SVD) or a non-negative integer, got ${String(cfg.niter)}`);
    }
  },
  numParams(cfg, shape) {
    return cfg.r * (shape.in + shape.out);
  },
  create(base, cfg, ctx) {
    const W = tensorToMatrix(base.weight); // [out, in]
    const s = loraScaling(cfg);
    let dec: Svd;
    if (cfg.niter === null) {
      dec = initStep(base, 'PiSSA', () => svd(W));
    } else {
      const [om, oq] = lowRankOmegaShape(W.rows, W.cols, cfg.r);
      const omega = ctx.omega ? fromNested(ctx.omega) : null;
      if (omega && (omega.rows !== om || omega.cols !== oq)) {
        throw new Error(`${base.name}: pissa_niter_${cfg.niter} omega must be [${om}, ${oq}] for a [${W.rows}, ${W.cols}] weight and r=${cfg.r}, got [${omega.rows}, ${omega.cols}]`);
      }
      dec = initStep(base, 'PiSSA', () => svdLowRank(W, cfg.r, cfg.niter!, omega, initRng(ctx, base, 'pissa_omega')));
    }
    const idx = Array.from({ length: cfg.r }, (_, i) => i);
    const root = idx.map((i) => Math.sqrt(dec.S[i] / s));
    const A0 = scaleRows(transpose(pickCols(dec.V, idx)), root); // [r, in]
    const B0 = scaleCols(pickCols(dec.U, idx), root); // [out, r]
    const { init, wRes } = residualInit(base, s, A0, B0);
    const layer = new LoraLayer(base, cfg, init);
    assignResidual(base, wRes);
    return layer;
  },
};
