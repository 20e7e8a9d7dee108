/**
 * The training loop: AdamW on the named trainable parameters, lr schedule with warmup, gradient accumulation,
 * global-norm clipping, held-out loss every N steps, checkpoints and exact resume, divergence detection, and a
 * tensor-count check that fails loudly when a step leaks. The loop knows the model only through CausalLM.loss.
 *
 * One host sync per step (loss and gradient norm together); everything else stays on the backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';
import type { ExperimentConfig, StepMetrics } from '../experiments/types';
import type { CausalLM } from '../models/types';
import { Progress } from '../util/progress';
import { batchTensors, evalLoss } from '../eval/loss';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { AdamW, type TrainParam } from './optimizer';
import { lrAt, validateSchedule, type ScheduleConfig } from './schedule';

export interface TrainLoopOptions {
  model: CausalLM;
  params: TrainParam[];
  /** The batch of micro-step i = step * gradAccum + k (deterministic, so resume replays the same stream). */
  batchAt: (i: number) => Batch;
  steps: number;
  gradAccum: number;
  optimizer: ExperimentConfig['optimizer'];
  schedule: ScheduleConfig;
  /** Held-out loss every N steps (0 = never during training). */
  evalEvery?: number;
  evalBatches?: Batch[];
  /** Save a checkpoint every `every` steps (and at the end) into `dir`; resume from it when `resume` is set. */
  checkpoint?: { dir: string; every: number; fingerprint: string; resume?: boolean };
  /** Stop (status 'ok', checkpoint written) after this many steps even though the schedule runs to `steps`. */
  stopAfter?: number;
  onStep?: (m: StepMetrics) => void;
  signal?: AbortSignal;
  /** Show a progress bar with this label (omit for silence). */
  progressLabel?: string;
  /** Throw when the tensor count grows from one step to the next (default true). */
  checkLeaks?: boolean;
}

export interface TrainOutcome {
  status: 'ok' | 'diverged' | 'cancelled';
  /** Step (1-based) whose loss or gradient norm was not finite. */
  divergedAtStep: number | null;
  metrics: StepMetrics[];
  /** Optimiser steps completed (including those restored from a checkpoint). */
  stepsDone: number;
  stepMsMedian: number;
  wallS: number;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Number of real (non-padding) tokens of a batch. */
export function realTokens(b: Batch): number {
  let n = 0;
  for (let i = 0; i < b.segmentIds.length; i++) if (b.segmentIds[i] !== 0) n++;
  return n;
}

function validate(o: TrainLoopOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`steps: expected an integer >= 1, got ${o.steps}`);
  if (!Number.isInteger(o.gradAccum) || o.gradAccum < 1) throw new Error(`gradAccum: expected an integer >= 1, got ${o.gradAccum}`);
  validateSchedule(o.schedule, o.steps);
  const { lr, clipNorm, loraPlusRatio } = o.optimizer;
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`optimizer.lr: expected a finite number > 0, got ${lr}`);
  if (clipNorm !== null && !(clipNorm > 0)) throw new Error(`optimizer.clipNorm: expected null or a number > 0, got ${clipNorm}`);
  if (loraPlusRatio !== null && !(loraPlusRatio > 0)) throw new Error(`optimizer.loraPlusRatio: expected null or a number > 0, got ${loraPlusRatio}`);
  if ((o.evalEvery ?? 0) > 0 && !(o.evalBatches && o.evalBatches.length)) throw new Error(`eval.every: ${o.evalEvery} needs held-out batches, none given`);
  if (o.params.length === 0) throw new Error('training: no trainable parameters');
}

/**
 * Gradients of the mean loss over `gradAccum` micro-batches, keyed by parameter name, and the mean loss as a
 * scalar tensor. Parameters the loss does not reach get no entry.
 */
export function accumulateGrads(
  model: CausalLM,
  params: TrainParam[],
  batches: Batch[],
): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const vars = params.map((p) => p.variable);
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name]));
  let acc: Record<string, tf.Tensor> = {};
  let lossSum: tf.Scalar | null = null;
  for (const b of batches) {
    const { value, grads } = tf.variableGrads(() => {
      const { ids, labels } = batchTensors(b);
      return model.loss(ids, labels);
    }, vars);
    const next: Record<string, tf.Tensor> = {};
    for (const [vname, g] of Object.entries(grads)) {
      const name = nameOf.get(vname)!;
      const prev = acc[name];
      next[name] = prev ? tf.add(prev, g) : g;
      if (prev) tf.dispose([prev, g]);
    }
    acc = next;
    const prevLoss: tf.Scalar | null = lossSum;
    lossSum = prevLoss ? (tf.add(prevLoss, value) as tf.Scalar) : value;
    if (prevLoss) tf.dispose([prevLoss, value]);
  }
  if (batches.length === 1) return { loss: lossSum!, grads: acc };
  const k = 1 / batches.length;
  const out = tf.tidy(() => ({
    loss: tf.mul(lossSum!, k) as tf.Scalar,
    grads: Object.fromEntries(Object.entries(acc).map(([n, g]) => [n, tf.mul(g, k)])),
  }));
  tf.dispose([lossSum!, ...Object.values(acc)]);
  return out;
}

/** Global L2 norm of a set of gradients, as a scalar tensor. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (grads.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  });
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the loss or the norm is not finite (no update was applied). */
  finite: boolean;
}

/**
 * One optimiser step: gradients of the mean loss over the micro-batches, one host sync for loss and norm, global-norm
 * clipping, AdamW update at `lr`. A non-finite loss or norm leaves the parameters untouched.
 */
export function trainStep(model: CausalLM, params: TrainParam[], opt: AdamW, batches: Batch[], lr: number, clipNorm: number | null): StepResult {
  const { loss, grads } = accumulateGrads(model, params, batches);
  const gl = Object.values(grads);
  try {
    const both = tf.tidy(() => tf.stack([loss, globalNorm(gl)]));
    const [lossV, normV] = both.dataSync();
    both.dispose();
    if (!Number.isFinite(lossV) || !Number.isFinite(normV)) return { loss: lossV, gradNorm: normV, finite: false };
    const scale = clipNorm !== null && normV > clipNorm ? clipNorm / (normV + 1e-6) : 1;
    if (scale < 1) {
      const clipped = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.mul(g, scale)])));
      try {
        opt.step(clipped, lr);
      } finally {
        tf.dispose(Object.values(clipped));
      }
    } else opt.step(grads, lr);
    return { loss: lossV, gradNorm: normV, finite: true };
  } finally {
    tf.dispose([loss, ...gl]);
  }
}

/** Run the loop. Never throws for a diverging loss (status 'diverged'); throws for bad options and leaks. */
export async function trainLoop(o: TrainLoopOptions): Promise<TrainOutcome> {
  validate(o);
  const opt = new AdamW(o.params, o.optimizer);
  const metrics: StepMetrics[] = [];
  const stepMs: number[] = [];
  let start = 0;
  let wallBefore = 0;
  try {
    if (o.checkpoint?.resume && hasCheckpoint(o.checkpoint.dir)) {
      const st = loadCheckpoint(o.checkpoint.dir, o.params, opt, o.checkpoint.fingerprint);
      if (st.step > o.steps) throw new Error(`checkpoint ${o.checkpoint.dir}: at step ${st.step}, beyond steps=${o.steps}`);
      start = st.step;
      wallBefore = st.wallS;
      metrics.push(...st.metrics);
    }
    const t0 = performance.now();
    const wall = () => wallBefore + (performance.now() - t0) / 1000;
    const end = Math.min(o.steps, o.stopAfter ?? o.steps);
    const bar = o.progressLabel ? new Progress({ label: o.progressLabel, total: o.steps }) : null;
    bar?.update(start);
    // Models may cache per-shape tensors (attention masks, rotary tables), so the count may grow on a step that
    // brings a new batch shape; on a step whose shapes were all seen before, any change is a leak.
    let baseline = -1;
    const seenShapes = new Set<string>();
    const newShapes = (bs: Batch[]) => bs.reduce((isNew, b) => {
      const key = b.shape.join('x');
      if (seenShapes.has(key)) return isNew;
      seenShapes.add(key);
      return true;
    }, false);
    let status: TrainOutcome['status'] = 'ok';
    let divergedAt: number | null = null;
    for (let step = start; step < end; step++) {
      if (o.signal?.aborted) {
        status = 'cancelled';
        break;
      }
      const ts = performance.now();
      const batches = Array.from({ length: o.gradAccum }, (_, k) => o.batchAt(step * o.gradAccum + k));
      const tokens = batches.reduce((a, b) => a + realTokens(b), 0);
      const lr = lrAt(o.optimizer.lr, o.schedule, step, o.steps);
      const r = trainStep(o.model, o.params, opt, batches, lr, o.optimizer.clipNorm);
      if (!r.finite) {
        status = 'diverged';
        divergedAt = step + 1;
        break;
      }
      const ms = performance.now() - ts;
      stepMs.push(ms);
      const m: StepMetrics = { step: step + 1, train_loss: r.loss, grad_norm: r.gradNorm, lr, tokens_per_s: tokens / (ms / 1000), wall_s: wall() };
      const evalEvery = o.evalEvery ?? 0;
      let fresh = newShapes(batches);
      if (evalEvery > 0 && (step + 1) % evalEvery === 0) {
        m.eval_loss = evalLoss(o.model, o.evalBatches!).loss;
        fresh = newShapes(o.evalBatches!) || fresh;
      }
      metrics.push(m);
      o.onStep?.(m);
      bar?.update(step + 1, `loss ${r.loss.toFixed(4)}${m.eval_loss !== undefined ? ` eval ${m.eval_loss.toFixed(4)}` : ''}`);
      const ck = o.checkpoint;
      if (ck && ck.every > 0 && ((step + 1) % ck.every === 0 || step + 1 === end))
        saveCheckpoint(ck.dir, o.params, opt, { step: step + 1, metrics, fingerprint: ck.fingerprint, wallS: wall() });
      const n = tf.memory().numTensors;
      if (baseline < 0 || fresh) baseline = n;
      else if (n !== baseline && (o.checkLeaks ?? true))
        throw new Error(`trainer: step ${step + 1} changed the tensor count from ${baseline} to ${n} (a leak in the model, adapter or loop)`);
      // Yield to the event loop so signals, timers and progress output are serviced between steps.
      await new Promise((r) => setImmediate(r));
    }
    if (bar && status === 'ok') bar.end();
    else if (bar) {
      bar.update(metrics.length, status);
      if (process.stderr.isTTY) process.stderr.write('\n');
    }
    return { status, divergedAtStep: divergedAt, metrics, stepsDone: metrics.length, stepMsMedian: median(stepMs), wallS: wall() };
  } finally {
    opt.dispose();
  }
}
