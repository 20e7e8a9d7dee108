/**
 * The DiSHA gradient-norm claim (paper §2.5): the norm of the gradient of the trainable parameters at initialisation,
 * per method and rank, on the same fixed batches. Bone is claimed to start near full fine-tuning at every rank, PiSSA
 * below it, LoRA far below and growing with r.
 */
import { AdapterConfigError, type AdapterConfig } from '../adapters/types';
import { resolveAdapterConfig } from '../adapters/registry';
import type { Batch } from '../data/types';
import { gradientNorm } from '../eval/gradnorm';
import { loadModel } from '../models/load';
import { injectWithInitGrads } from '../train/loraga-grad';
import { collectTrainParams, countParams } from '../train/params';

export interface GradNormRow {
  bench: 'gradnorm';
  method: string;
  r: number | null;
  trainable_params: number;
  grad_norm: number;
  loss: number;
}

/** Adapter config of a method at rank r (LoRA alpha = 2r as in the paper's runs; PiSSA alpha = r). */
export function rankConfig(method: string, r: number | null): AdapterConfig {
  if (method === 'full' || r === null) return resolveAdapterConfig({ kind: method });
  if (method === 'bone' || method === 'bat' || method === 'mini') return resolveAdapterConfig({ kind: method, r });
  return resolveAdapterConfig({ kind: method, r, alpha: method === 'pissa' ? r : 2 * r });
}

/**
 * Initial gradient norm for every (method, rank) on `batches`, each on a freshly loaded base. Ranks a method cannot
 * take on this model (Bat: r must divide every dimension) are skipped; full fine-tuning is measured once.
 */
export function gradNormSweep(baseDir: string, methods: string[], ranks: number[], batches: Batch[], targets: 'all-linear' | string[] = 'all-linear'): GradNormRow[] {
  const rows: GradNormRow[] = [];
  for (const method of methods) {
    for (const r of method === 'full' ? [null] : ranks) {
      const model = loadModel(baseDir);
      try {
        injectWithInitGrads(model, { adapter: rankConfig(method, r), targets, seed: 0 }, () => batches);
        const params = collectTrainParams(model, { loraPlusRatio: null });
        const g = gradientNorm(model, params, batches);
        rows.push({ bench: 'gradnorm', method, r, trainable_params: countParams(params), grad_norm: g.total, loss: g.loss });
      } catch (e) {
        if (!(e instanceof AdapterConfigError)) throw e; // a rank this model cannot take: skip it
      } finally {
        model.dispose();
      }
    }
  }
  return rows;
}
