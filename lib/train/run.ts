/**
 * One experiment, end to end: base model (the kit's cached pretrained base, or an HF folder) and tokenizer, task data,
 * adapter injection (LoRA-GA after its gradient pass), training, held-out loss and greedy exact-match accuracy, and a
 * complete RunResult. Nothing is thrown away: an exception becomes status 'failed' with the metrics gathered so far,
 * and the model is disposed whatever happens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig, RunResult, RunStatus, StepMetrics } from '../experiments/types';
import { exactMatchAccuracy } from '../eval/accuracy';
import { evalLoss } from '../eval/loss';
import { exportPeft } from '../models/inject';
import { loadModel } from '../models/load';
import type { CausalLM } from '../models/types';
import type { MathExample } from '../data/types';
import { collectMeta, gitSha } from '../results/meta';
import { loadTokenizer } from '../tokenizer/tokenizer';
import { deriveSeed } from '../util/random';
import { trainLoop } from './loop';
import { injectWithInitGrads } from './loraga-grad';
import { collectTrainParams, countParams } from './params';
import { BASE_INFO_FILE, ensureBaseModel } from './pretrain';
import { prepareTask } from './task-data';

/** The kit base every experiment fine-tunes (one pretrained model, whatever the run's seed). */
export const KIT_BASE_SEED = 0;
/** Batches averaged for LoRA-GA's gradient estimate. */
export const LORAGA_GRAD_BATCHES = 4;

export interface RunOptions {
  /** Called after every optimiser step. */
  onStep?: (m: StepMetrics) => void;
  /** Abort: the run stops before its next step and is returned with status 'cancelled'. */
  signal?: AbortSignal;
  /** Show progress bars (pretraining, training, decoding) on stderr. */
  progress?: boolean;
  /** Status lines (default: stderr when progress is on, else silent). */
  log?: (line: string) => void;
  /** Where the kit's bases are cached (default .cache/bases). */
  cacheDir?: string;
  /** After a successful run, write the trained adapters here as a PEFT folder (adapter_config.json + safetensors). */
  exportAdapterDir?: string;
}

/** Resolve cfg.model to a checkpoint folder holding the model and its tokenizer, and whether it is a kit base. */
export async function resolveBase(cfg: ExperimentConfig, opts: RunOptions): Promise<{ dir: string; kitBase: boolean }> {
  if (cfg.model.source === 'kit-base') {
    const dir = await ensureBaseModel({
      arch: cfg.model.arch,
      preset: cfg.model.preset,
      seed: KIT_BASE_SEED,
      cacheDir: opts.cacheDir,
      progress: opts.progress,
      log: opts.log,
    });
    return { dir, kitBase: true };
  }
  const dir = path.resolve(cfg.model.source);
  if (!fs.existsSync(dir)) throw new Error(`model.source: checkpoint folder not found: ${cfg.model.source}`);
  // a folder the kit pretrained (base.json beside the weights) has the char-level tokenizer and its short prompt
  return { dir, kitBase: fs.existsSync(path.join(dir, BASE_INFO_FILE)) };
}

function peakRssMb(prev: number): number {
  return Math.max(prev, process.memoryUsage().rss / 2 ** 20);
}

/** The kit's word problems break accuracy down by steps and novelty ('1-step new-numbers', '2-step new-combination'). */
function problemGroup(ex: MathExample): string | null {
  const meta = ex.meta;
  return meta && typeof meta.steps === 'number' && typeof meta.novelty === 'string' ? `${meta.steps}-step ${meta.novelty}` : null;
}

/** Run one experiment and return its result (never throws for a failing run). */
export async function runExperiment(cfg: ExperimentConfig, opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  const log = opts.log ?? (opts.progress ? (l: string) => process.stderr.write(`${l}\n`) : () => {});
  const metrics: StepMetrics[] = [];
  let status: RunStatus = 'ok';
  let error: string | null = null;
  let divergedAt: number | null = null;
  let numParams = 0;
  let stepMs = NaN;
  let peak = peakRssMb(0);
  let final: RunResult['train_info']['final'] = null;
  let model: CausalLM | null = null;
  try {
    const base = await resolveBase(cfg, opts);
    model = loadModel(base.dir);
    if (model.arch !== cfg.model.arch) throw new Error(`model.arch: config says '${cfg.model.arch}' but ${base.dir} holds a ${model.arch} model`);
    const tok = loadTokenizer(base.dir);
    const task = prepareTask(cfg, tok, base.kitBase);
    if (task.trainStats.truncated > task.trainStats.total / 2)
      log(`warning: data.maxLength=${cfg.data.maxLength} truncates ${task.trainStats.truncated}/${task.trainStats.total} training examples (longest ${task.trainStats.maxTokens} tokens)`);
    const batchAt = (i: number) => task.schedule.at(i).batch;

    injectWithInitGrads(model, { adapter: cfg.adapter, targets: cfg.targets, seed: deriveSeed(cfg.seed, 'adapter-init') }, () =>
      Array.from({ length: Math.min(LORAGA_GRAD_BATCHES, task.schedule.epochLength(0)) }, (_, i) => batchAt(i)),
    );
    const params = collectTrainParams(model, { loraPlusRatio: cfg.optimizer.loraPlusRatio });
    numParams = countParams(params);
    log(`${cfg.name}/${cfg.variant || cfg.adapter.kind}: ${numParams} trainable parameters, ${task.train.length} train / ${task.eval.length} held-out problems`);

    const out = await trainLoop({
      model,
      params,
      batchAt: (i) => batchAt(i),
      steps: cfg.steps,
      gradAccum: cfg.gradAccum,
      optimizer: cfg.optimizer,
      schedule: cfg.schedule,
      evalEvery: cfg.eval.every,
      evalBatches: task.evalBatches,
      onStep: (m) => {
        metrics.push(m);
        peak = peakRssMb(peak);
        opts.onStep?.(m);
      },
      signal: opts.signal,
      progressLabel: opts.progress ? `train ${cfg.variant || cfg.adapter.kind}` : undefined,
    });
    status = out.status;
    divergedAt = out.divergedAtStep;
    stepMs = out.stepMsMedian;
    if (status === 'diverged') error = `loss became non-finite at step ${divergedAt}`;
    if (status === 'ok') {
      const held = evalLoss(model, task.evalBatches);
      const examples = task.eval.slice(0, cfg.eval.generateExamples);
      const acc = examples.length
        ? await exactMatchAccuracy(model, tok, examples, {
            maxNewTokens: cfg.eval.maxNewTokens,
            template: task.template,
            signal: opts.signal,
            groupOf: problemGroup,
          })
        : { accuracy: NaN, n: 0, samples: [], byGroup: {} };
      if (opts.signal?.aborted) status = 'cancelled';
      final = { eval_loss: held.loss, eval_ppl: held.ppl, accuracy: acc.accuracy, n_eval: acc.n, accuracy_by_group: acc.byGroup, samples: acc.samples };
      log(`held-out loss ${held.loss.toFixed(4)}, accuracy ${acc.n ? `${(acc.accuracy * 100).toFixed(1)}% of ${acc.n}` : 'not measured'}`);
      if (status === 'ok' && opts.exportAdapterDir) {
        if (cfg.adapter.kind === 'full') log('full fine-tuning has no PEFT adapter to export (save the model instead)');
        else {
          exportPeft(model, opts.exportAdapterDir);
          log(`PEFT adapter written to ${opts.exportAdapterDir}`);
        }
      }
    }
  } catch (e) {
    status = opts.signal?.aborted ? 'cancelled' : 'failed';
    error = (e as Error)?.message ?? String(e);
  } finally {
    peak = peakRssMb(peak);
    model?.dispose();
  }
  return {
    run_info: { created_at: new Date().toISOString(), experiment: cfg.name, variant: cfg.variant, config: cfg, git_sha: gitSha(), error_msg: error },
    train_info: {
      status,
      diverged_at_step: divergedAt,
      num_trainable_params: numParams,
      wall_s: (performance.now() - t0) / 1000,
      step_ms_median: stepMs,
      peak_rss_mb: peak,
      initial_grad_norm: metrics.length ? metrics[0].grad_norm : NaN,
      metrics,
      final,
    },
    meta_info: collectMeta(tf.getBackend()),
  };
}
