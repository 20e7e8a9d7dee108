/**
 * Matched parameter budgets, the way the paper pairs methods: given the reference method (Bone) at rank r on the same
 * model and targets, a LoRA-family method gets the smallest EVEN rank whose trainable count is at least the
 * reference's. That rule reproduces every pairing in the paper's tables: Bone r=64 -> LoRA r=36 on LLaMA2-7B
 * (87.03M vs 89.95M; r=35 would be closer but odd), r=34 on Mistral-7B (88.08M vs 89.13M), r=32 on RWKV6-7B
 * (88.08M both). "Closest count" would give r=35 on LLaMA2-7B, which the paper did not use.
 */
import { AdapterConfigError, type AdapterConfig } from '../adapters/types';
import { numAdapterParams, resolveAdapterConfig, validateAdapterConfig } from '../adapters/registry';
import { listLinears, resolveModelShape } from '../models/presets';
import { isHeadModule, selectTargets } from '../models/targets';
import { basePreset } from '../train/base-presets';
import type { ExperimentConfig } from './types';

export interface LinearShape {
  name: string;
  out: number;
  in: number;
  bias?: boolean;
}

/**
 * Linear shapes of a model: the kit base's preset, or an HF checkpoint folder / config.json / named preset. The kit
 * base's output head is left out: its size is the vocabulary of the tokenizer built at pretraining, and 'all-linear'
 * (the kit's default) never selects it.
 */
export function modelLinears(model: ExperimentConfig['model']): LinearShape[] {
  if (model.source === 'kit-base') {
    const shape = { ...(model.arch === 'rwkv6' ? { model_type: 'rwkv6' } : {}), ...basePreset(model.arch, model.preset).model, vocab_size: 1 };
    return listLinears(shape).filter((l) => !isHeadModule(l.name));
  }
  return listLinears(resolveModelShape(model.source).shape);
}

/** The linear shapes an experiment's targets select. */
export function targetShapes(cfg: Pick<ExperimentConfig, 'model' | 'targets'>): LinearShape[] {
  const all = modelLinears(cfg.model);
  const chosen = new Set(selectTargets(all.map((l) => l.name), cfg.targets));
  return all.filter((l) => chosen.has(l.name));
}

/** Trainable parameters of `adapter` over `shapes` (closed form per module, each validated against its shape). */
export function countTrainable(adapter: AdapterConfig, shapes: readonly LinearShape[]): number {
  let n = 0;
  for (const s of shapes) {
    const shape = { out: s.out, in: s.in, bias: s.bias ?? false };
    validateAdapterConfig(adapter, shape, s.name);
    n += numAdapterParams(adapter, shape);
  }
  return n;
}

/**
 * The paper's matched rank for `adapter`'s kind against `reference` on `shapes`: the smallest multiple of `multiple`
 * (default 2) whose trainable count is >= the reference's. Throws naming the kind when no rank reaches it.
 */
export function matchRankOnShapes(adapter: AdapterConfig, reference: AdapterConfig, shapes: readonly LinearShape[], multiple = 2): { r: number; count: number; referenceCount: number } {
  if (!('r' in adapter)) throw new Error(`budget: adapter ${adapter.kind} has no rank to match`);
  const referenceCount = countTrainable(reference, shapes);
  const maxR = Math.max(...shapes.map((s) => Math.max(s.out, s.in)));
  let lastError = '';
  for (let r = multiple; r <= maxR; r += multiple) {
    let count: number;
    try {
      count = countTrainable({ ...adapter, r } as AdapterConfig, shapes);
    } catch (e) {
      // A rank the method cannot take on these shapes (Bat: r must divide every dimension) is skipped.
      if (!(e instanceof AdapterConfigError)) throw e;
      lastError = ` (last rank tried: ${e.message})`;
      continue;
    }
    if (count >= referenceCount) return { r, count, referenceCount };
  }
  throw new Error(`budget: no ${adapter.kind} rank up to ${maxR} reaches ${reference.kind} r=${(reference as { r?: number }).r}'s ${referenceCount} trainable parameters${lastError}`);
}

/** Matched rank for an experiment's adapter against `reference` ({kind, r} plus that kind's defaults) on its targets. */
export function matchedRank(cfg: ExperimentConfig, reference: { kind: string; r: number }): number {
  const ref = resolveAdapterConfig(reference);
  try {
    return matchRankOnShapes(cfg.adapter, ref, targetShapes(cfg)).r;
  } catch (e) {
    throw new Error(`matchBudget (${cfg.adapter.kind} vs ${reference.kind} r=${reference.r}): ${(e as Error).message}`);
  }
}
