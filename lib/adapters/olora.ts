/**
 * OLoRA (Büyükakyüz 2024) as PEFT's olora_init: reduced QR of W, A = R[:r], B = Q[:, :r], base <- W - s B A.
 * No 1/s compensation (unlike PiSSA), so with s != 1 the part moved into the adapter is s Q_r R_r.
 */
import { pickCols, pickRows } from '../linalg/matrix';
import { qr } from '../linalg/qr';
import { tensorToMatrix } from './common';
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
import type { AdapterSpec, OloraConfig } from './types';

export const OLORA_FIELDS: FieldTable<OloraConfig> = { ...LORA_COMMON_FIELDS };

export const OLORA: AdapterSpec<OloraConfig> = {
  kind: 'olora',
  defaults: { kind: 'olora', r: 8, alpha: 8, rslora: false },
  validate(cfg, shape, where) {
    validateLoraCommon(cfg, shape, where);
    checkRankFitsShape('OLoRA', cfg.r, shape, where);
  },
  numParams(cfg, shape) {
    return cfg.r * (shape.in + shape.out);
  },
  create(base, cfg) {
    const { Q, R } = initStep(base, 'OLoRA', () => qr(tensorToMatrix(base.weight))); // Q [out, k], R [k, in]
    const idx = Array.from({ length: cfg.r }, (_, i) => i);
    const { init, wRes } = residualInit(base, loraScaling(cfg), pickRows(R, idx), pickCols(Q, idx));
    const layer = new LoraLayer(base, cfg, init);
    assignResidual(base, wRes);
    return layer;
  },
};
