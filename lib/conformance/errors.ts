/**
 * errors.json: invalid configurations PEFT rejects. Each case must be rejected here with an AdapterConfigError, except
 * two PEFT artefacts: float64 base weights (tfjs has no float64 weights: not applicable) and MiSS/Bone merge with
 * r > in_features, which crashes in PEFT but must work here (checked against the tiled delta).
 */
import * as tf from '@tensorflow/tfjs';
import { assignParams } from '../adapters/common';
import { createAdapter, validateAdapterConfig } from '../adapters/registry';
import { AdapterConfigError } from '../adapters/types';
import { createLinear } from '../models/linear';
import { parsePeftConfig } from '../peft/config';
import { Rng } from '../util/random';
import { CONFORMANCE_TOL } from './check';
import type { VectorResult } from './run';
import type { ErrorCase, ErrorsFile } from './vector';

const WHERE = 'model.layers.0.self_attn.q_proj';
const DEFAULT_SHAPE: [number, number] = [16, 24];

type Outcome = { ok: boolean; note: string; worst?: number };

/** Balance/mini merge with r > in: merge must succeed and equal W[o, i] + D[i mod r, o]; unmerge must restore W. */
function mergeWorksBeyondIn(out: number, inF: number, r: number, cfgKind: 'bone' | 'mini', miniR: number): Outcome {
  const rng = new Rng(7);
  const width = cfgKind === 'mini' ? miniR : out;
  const W = rng.normalArray(out * inF);
  const block = rng.normalArray(r * width);
  const wt = tf.tensor2d(W, [out, inF]);
  const base = createLinear(WHERE, wt);
  wt.dispose();
  const layer = createAdapter(base, cfgKind === 'mini' ? { kind: 'mini', r, miniR } : { kind: 'bone', r }, { seed: 0 });
  try {
    const bt = tf.tensor2d(block, [r, width]);
    assignParams(layer, { miss_block: bt });
    bt.dispose();
    layer.merge({ safe: true });
    const merged = base.weight.dataSync();
    let worst = 0;
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inF; i++) {
        const want = W[o * inF + i] + block[(i % r) * width + (o % width)];
        worst = Math.max(worst, Math.abs(merged[o * inF + i] - want) / Math.max(1, Math.abs(want)));
      }
    }
    layer.unmerge();
    const back = base.weight.dataSync();
    for (let k = 0; k < W.length; k++) worst = Math.max(worst, Math.abs(back[k] - W[k]) / Math.max(1, Math.abs(W[k])));
    return { ok: worst <= CONFORMANCE_TOL, note: `merge works with r=${r} > in_features=${inF}`, worst };
  } finally {
    layer.dispose();
    base.dispose();
  }
}

function runCase(c: ErrorCase): Outcome {
  if (c.base_dtype === 'float64') return { ok: true, note: 'float64 base: not applicable (tfjs weights are float32)' };
  const [out, inF] = c.shape ?? DEFAULT_SHAPE;
  let cfg;
  try {
    // Each case is PEFT creating the adapter on a model (get_peft_model; LoRA-GA with a gradient attached).
    cfg = parsePeftConfig(c.config, { method: c.method, where: WHERE, use: 'create' }).adapter;
    validateAdapterConfig(cfg, { out, in: inF }, WHERE);
  } catch (e) {
    if (e instanceof AdapterConfigError && e.message.length > 0) return { ok: true, note: `rejected: ${e.message}` };
    return { ok: false, note: `rejected with an unexpected error: ${(e as Error).message}` };
  }
  if ((cfg.kind === 'bone' || cfg.kind === 'mini') && cfg.r > inF) {
    return mergeWorksBeyondIn(out, inF, cfg.r, cfg.kind, cfg.kind === 'mini' ? cfg.miniR : 1);
  }
  return { ok: false, note: `accepted a configuration PEFT rejects (${c.exception}: ${c.message})` };
}

export function runErrorsFile(v: ErrorsFile, file: string): VectorResult {
  const outcomes = v.cases.map((c, i) => {
    try {
      return { i, c, ...runCase(c) };
    } catch (e) {
      return { i, c, ok: false, note: `error: ${(e as Error).message}` };
    }
  });
  const bad = outcomes.filter((o) => !o.ok);
  const worsts = outcomes.map((o) => (o as Outcome).worst).filter((w): w is number => typeof w === 'number');
  const worst = worsts.length ? Math.max(...worsts) : null;
  const na = outcomes.filter((o) => o.note.startsWith('float64')).length;
  if (bad.length) {
    return { id: v.id, file, status: 'fail', worst, detail: bad.map((o) => `case ${o.i} (${o.c.method} ${JSON.stringify(o.c.config)}): ${o.note}`).join('; ') };
  }
  return { id: v.id, file, status: 'pass', worst, detail: `${outcomes.length} cases: ${outcomes.length - na - worsts.length} rejected, ${worsts.length} merge beyond in_features works, ${na} not applicable` };
}
