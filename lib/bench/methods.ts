/**
 * Every method fine-tuning the kit's base for a fixed number of steps at a matched trainable-parameter budget: Bone r
 * against the LoRA / PiSSA / DoRA / OLoRA rank with the closest count, Bat at the same r (its count equals Bone's), full
 * fine-tuning. Per method: median step time, tokens/s, peak RSS, tensors left after disposal, and forward time of the
 * adapted, merged and plain base model (a merged model must cost what the base costs).
 */
import * as tf from '@tensorflow/tfjs';
import { generateWordProblems } from '../../datasets/wordproblems';
import { numAdapterParams } from '../adapters/registry';
import type { AdapterConfig } from '../adapters/types';
import { BatchSchedule } from '../data/batch';
import { encodeExamples } from '../data/encode';
import type { Batch } from '../data/types';
import { batchTensors } from '../eval/loss';
import { mergeAndUnload } from '../models/inject';
import { loadModel } from '../models/load';
import { selectTargets } from '../models/targets';
import type { CausalLM, Linear } from '../models/types';
import { loadTokenizer } from '../tokenizer/tokenizer';
import { median, realTokens, trainStep } from '../train/loop';
import { AdamW } from '../train/optimizer';
import { injectWithInitGrads } from '../train/loraga-grad';
import { collectTrainParams, countParams } from '../train/params';
import type { TrainParam } from '../train/optimizer';
import { rankConfig } from './gradnorm';
import { timeIt } from './timing';

export const BENCH_METHODS = ['bone', 'bat', 'lora', 'pissa', 'olora', 'dora', 'loraga', 'full'] as const;
export type BenchMethod = (typeof BENCH_METHODS)[number];

export interface MethodBenchRow {
  bench: 'method';
  method: BenchMethod;
  r: number | null;
  trainable_params: number;
  steps: number;
  step_ms: number;
  tokens_per_s: number;
  peak_rss_mb: number;
  leaked_tensors: number;
  /** Forward (logits) of one batch: with the adapter attached, after mergeAndUnload, and of the untouched base. */
  forward_ms: { adapter: number; merged: number; base: number };
  final_train_loss: number;
}

export interface MethodBenchOptions {
  baseDir: string;
  method: BenchMethod;
  /** Bone's block size; the LoRA family gets the rank with the closest count on the targets. */
  boneR: number;
  targets: 'all-linear' | string[];
  steps: number;
  batchSize: number;
  seed?: number;
}

function trainableShapes(model: CausalLM, targets: 'all-linear' | string[]): Linear[] {
  const lin = model.linears();
  return selectTargets([...lin.keys()], targets).map((n) => lin.get(n)!);
}

function countOn(cfg: AdapterConfig, shapes: Linear[]): number {
  return shapes.reduce((a, l) => a + numAdapterParams(cfg, { out: l.outFeatures, in: l.inFeatures, bias: l.bias !== null }), 0);
}

/**
 * The adapter config of `method` at Bone r's budget: LoRA-family ranks 1..2r scanned for the count closest to Bone's
 * (ties to the smaller rank), with rankConfig's alpha (2r as in the paper's LoRA runs, PiSSA r).
 */
export function matchedConfig(method: BenchMethod, boneR: number, shapes: Linear[]): AdapterConfig {
  if (method === 'bone' || method === 'bat') return rankConfig(method, boneR);
  if (method === 'full') return rankConfig('full', null);
  const target = countOn(rankConfig('bone', boneR), shapes);
  let best: { r: number; diff: number } | null = null;
  for (let r = 1; r <= 2 * boneR; r++) {
    const diff = Math.abs(countOn(rankConfig(method, r), shapes) - target);
    if (!best || diff < best.diff) best = { r, diff };
  }
  return rankConfig(method, best!.r);
}

/** Fixed word-problem batches for timing (train split, the 'qa' prompt the kit base is fine-tuned with). */
export function benchBatches(dir: string, batchSize: number, n: number): Batch[] {
  const tok = loadTokenizer(dir);
  const problems = generateWordProblems({ seed: 0, n: batchSize * n, split: 'train' });
  const { encoded } = encodeExamples(problems, tok, { maxLength: 256, template: 'qa' });
  const sched = new BatchSchedule(encoded, { batchSize, seed: 0, padId: tok.padId });
  return Array.from({ length: n }, (_, i) => sched.at(i).batch);
}

function forwardMs(model: CausalLM, b: Batch): number {
  const { ids, labels } = batchTensors(b);
  const t = timeIt(() => [model.logits(ids)], 3, 1);
  tf.dispose([ids, labels]);
  return t.median_ms;
}

/** Fine-tune one method for opts.steps steps and measure it (run it in its own process for a clean peak RSS). */
export function benchMethod(o: MethodBenchOptions): MethodBenchRow {
  const before = tf.memory().numTensors;
  const batches = benchBatches(o.baseDir, o.batchSize, Math.min(o.steps, 8));
  const run = { method: o.method, ...prepared(o, o.method, batches) };
  let row: Omit<MethodBenchRow, 'leaked_tensors' | 'peak_rss_mb'>;
  try {
    const [t] = timeSteps([run], batches, o.steps);
    const adapterFwd = forwardMs(run.model, batches[0]);
    mergeAndUnload(run.model);
    const mergedFwd = forwardMs(run.model, batches[0]);
    const base = loadModel(o.baseDir);
    const baseFwd = forwardMs(base, batches[0]);
    base.dispose();
    row = {
      bench: 'method',
      method: o.method,
      r: 'r' in run.cfg ? run.cfg.r : null,
      trainable_params: countParams(run.params),
      steps: o.steps,
      step_ms: t.step_ms,
      tokens_per_s: t.tokens_per_s,
      forward_ms: { adapter: adapterFwd, merged: mergedFwd, base: baseFwd },
      final_train_loss: t.final_train_loss,
    };
  } finally {
    run.opt.dispose();
    run.model.dispose();
  }
  return { ...row, peak_rss_mb: process.resourceUsage().maxRSS / 1024, leaked_tensors: tf.memory().numTensors - before };
}

export interface InterleavedTiming {
  method: BenchMethod;
  /** Median wall time of one optimiser step. */
  step_ms: number;
  tokens_per_s: number;
  /** Training loss of the last step. */
  final_train_loss: number;
}

interface PreparedRun {
  method: BenchMethod;
  model: CausalLM;
  cfg: AdapterConfig;
  params: TrainParam[];
  opt: AdamW;
}

/** A model with `method` injected at Bone r's budget, ready to step (LoRA-GA gets its gradient pass). */
function prepared(o: Omit<MethodBenchOptions, 'method' | 'steps'>, method: BenchMethod, batches: Batch[]): Omit<PreparedRun, 'method'> {
  const model = loadModel(o.baseDir);
  try {
    const cfg = matchedConfig(method, o.boneR, trainableShapes(model, o.targets));
    injectWithInitGrads(model, { adapter: cfg, targets: o.targets, seed: o.seed ?? 0 }, () => batches.slice(0, 2));
    const params = collectTrainParams(model, { loraPlusRatio: null });
    return { model, cfg, params, opt: new AdamW(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Step times of methods stepped side by side: each of `steps` + 1 rounds runs one step of every method on the same
 * batch, in a rotating order, so load from other processes falls on all methods alike. The figures are medians over
 * rounds; the first round, which pays one-off set-up costs (kernels, caches), is left out.
 */
function timeSteps(runs: PreparedRun[], batches: Batch[], steps: number): InterleavedTiming[] {
  const ms = runs.map((): number[] => []);
  const tokens = runs.map((): number[] => []);
  const last = runs.map(() => NaN);
  for (let step = 0; step <= steps; step++) {
    const b = batches[step % batches.length];
    const real = realTokens(b);
    for (let k = 0; k < runs.length; k++) {
      const i = (k + step) % runs.length;
      const { model, params, opt, method } = runs[i];
      const t0 = performance.now();
      const r = trainStep(model, params, opt, [b], 1e-4, 1);
      const dt = performance.now() - t0;
      if (!r.finite) throw new Error(`bench ${method}: loss became non-finite at step ${step + 1}`);
      last[i] = r.loss;
      if (step > 0) {
        ms[i].push(dt);
        tokens[i].push(real / (dt / 1000));
      }
    }
  }
  return runs.map((r, i) => ({ method: r.method, step_ms: median(ms[i]), tokens_per_s: median(tokens[i]), final_train_loss: last[i] }));
}

/** Step times of several methods measured side by side in one process (see timeSteps). */
export function benchInterleaved(o: Omit<MethodBenchOptions, 'method'>, methods: BenchMethod[]): InterleavedTiming[] {
  const batches = benchBatches(o.baseDir, o.batchSize, Math.min(o.steps, 8));
  const runs: PreparedRun[] = [];
  try {
    for (const m of methods) runs.push({ method: m, ...prepared(o, m, batches) });
    return timeSteps(runs, batches, o.steps);
  } finally {
    for (const r of runs) {
      r.opt.dispose();
      r.model.dispose();
    }
  }
}
