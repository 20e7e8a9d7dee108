/**
 * Notebook 06's steps around one training run on a checkpoint folder: pick the checkpoint (BONELAB_CHECKPOINT, else
 * the kit's own pretrained base, which is itself an HF folder), pick GSM8K-format data (the shared GSM8K train split
 * when present, else the kit's word problems written as GSM8K JSONL), fine-tune and export the adapter as a PEFT
 * folder, then check the export by loading it into a fresh copy of the base and re-measuring the held-out loss.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateWordProblems } from '../../datasets/wordproblems';
import type { GridAxes } from '../experiments/grid-spec';
import type { ExperimentConfig, RunResult } from '../experiments/types';
import { evalLoss } from '../eval/loss';
import { importPeft } from '../models/inject';
import { loadModel } from '../models/load';
import { runResultPath, writeRunResult } from '../results/write';
import { parseRunResult } from '../results/read';
import { loadTokenizer } from '../tokenizer/tokenizer';
import { resolveBase, runExperiment } from '../train/run';
import { prepareTask, WORDPROBLEM_DATA_SEED } from '../train/task-data';
import { writeFileAtomic } from '../util/fs';
import type { NotebookContext } from './setup';

/** The shared GSM8K train split, relative to the project root (the kernel's working directory). */
export const SHARED_GSM8K = path.join('..', 'shared', 'datasets', 'gsm8k', 'train.jsonl');

export interface CheckpointChoice {
  /** What goes into model.source: a folder, or 'kit-base' (the kit's cached base, loaded from its HF folder). */
  source: string;
  /** Where it comes from, for the notebook's output. */
  description: string;
}

/** BONELAB_CHECKPOINT (an HF LLaMA-family folder) if set, else the kit's own base. */
export function chooseCheckpoint(env: NodeJS.ProcessEnv = process.env): CheckpointChoice {
  const dir = env.BONELAB_CHECKPOINT;
  if (dir === undefined || dir === '') return { source: 'kit-base', description: "the kit's pretrained tiny LLaMA (an HF folder under .cache/bases/, built on first use)" };
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!fs.existsSync(path.join(dir, f))) throw new Error(`BONELAB_CHECKPOINT=${dir}: not an HF checkpoint folder (missing ${f})`);
  }
  return { source: path.resolve(dir), description: `the checkpoint folder ${dir} (BONELAB_CHECKPOINT)` };
}

export interface DataChoice {
  path: string;
  description: string;
}

/**
 * A MathExample as a GSM8K record: the reasoning, then `#### <answer>`. A closing `The answer is: N` line (the kit's
 * and MetaMathQA's marker) is dropped, since GSM8K's `####` line replaces it.
 */
export function toGsm8kLine(q: { question: string; answer: string; solution?: string }): string {
  const reasoning = (q.solution ?? '').replace(/\n?The answer is:[^\n]*\s*$/, '').trim();
  return JSON.stringify({ question: q.question, answer: `${reasoning ? `${reasoning}\n` : ''}#### ${q.answer}` });
}

/** The shared GSM8K train split if present; else `n` generated word problems written as GSM8K JSONL into resultsDir. */
export function chooseGsm8kData(ctx: NotebookContext, n: number): DataChoice {
  if (fs.existsSync(SHARED_GSM8K)) return { path: SHARED_GSM8K, description: `GSM8K train (${SHARED_GSM8K})` };
  const file = path.join(ctx.resultsDir, 'wordproblems-gsm8k.jsonl');
  const problems = generateWordProblems({ seed: WORDPROBLEM_DATA_SEED, n, split: 'train' });
  writeFileAtomic(file, problems.map(toGsm8kLine).join('\n') + '\n');
  return { path: path.relative(process.cwd(), file), description: `${n} kit word problems in GSM8K format (${SHARED_GSM8K} not found)` };
}

/**
 * The notebook's layer over experiments/real-checkpoint.json: one Bone run (seed 0) on the chosen checkpoint and data.
 * On the kit base, Bone's block is 8 (its layers are 64 wide; the paper's 64 would make the update a full matrix) and
 * the context is 320 tokens, since its tokens are characters and a GSM8K problem with its solution runs to ~500.
 */
export function checkpointGrid(checkpoint: CheckpointChoice, data: DataChoice): { axes: GridAxes; overrides: Record<string, unknown>[] } {
  const kit = checkpoint.source === 'kit-base';
  return {
    axes: { method: [{ kind: 'bone', r: kit ? 8 : 64 }], seed: [0] },
    overrides: [{ model: { source: checkpoint.source }, data: { task: 'gsm8k', path: data.path, ...(kit ? { maxLength: 320 } : {}) } }],
  };
}

/** Train once, export the adapter, and save the result as <resultsDir>/runs/<variant>.json (returned as read back). */
export async function fineTuneAndExport(ctx: NotebookContext, cfg: ExperimentConfig, exportDir: string): Promise<RunResult> {
  fs.rmSync(exportDir, { recursive: true, force: true }); // an old export must not pass for this run's
  const result = await runExperiment(cfg, { exportAdapterDir: exportDir, log: (l) => console.log(l) });
  const back = parseRunResult(writeRunResult(runResultPath(ctx.resultsDir, cfg.variant), result));
  if (back.train_info.status !== 'ok') throw new Error(`fineTuneAndExport: run ${back.train_info.status}: ${back.run_info.error_msg ?? ''}`);
  return back;
}

export interface ExportCheck {
  files: { file: string; bytes: number }[];
  tensors: { module: string; tensor: string; shape: string }[];
  /** adapter_config.json as written. */
  peftConfig: Record<string, unknown>;
  evalLossRun: number;
  evalLossReloaded: number;
  /** The checkpoint without the adapter: how far training moved the loss, i.e. what the check can tell apart. */
  evalLossBase: number;
  /** Largest |value| over the exported tensors (0 would mean an untrained or empty export). */
  maxAbsTensor: number;
}

/** Reload the base, apply the exported PEFT folder, and measure the same held-out loss the run reported. */
export async function checkExport(cfg: ExperimentConfig, exportDir: string, result: RunResult): Promise<ExportCheck> {
  const base = await resolveBase(cfg, {});
  const model = loadModel(base.dir);
  try {
    const task = prepareTask(cfg, loadTokenizer(base.dir), base.kitBase);
    const plain = evalLoss(model, task.evalBatches);
    const contents = importPeft(model, exportDir, { seed: 0 });
    const reloaded = evalLoss(model, task.evalBatches);
    let maxAbs = 0;
    for (const ts of contents.tensors.values()) for (const t of Object.values(ts)) for (const v of t.data) maxAbs = Math.max(maxAbs, Math.abs(v));
    return {
      files: fs.readdirSync(exportDir).sort().map((f) => ({ file: f, bytes: fs.statSync(path.join(exportDir, f)).size })),
      tensors: [...contents.tensors.entries()].flatMap(([module, ts]) => Object.entries(ts).map(([tensor, t]) => ({ module, tensor, shape: `[${t.shape.join(', ')}]` }))),
      peftConfig: contents.peftConfig,
      evalLossRun: result.train_info.final?.eval_loss ?? NaN,
      evalLossReloaded: reloaded.loss,
      evalLossBase: plain.loss,
      maxAbsTensor: maxAbs,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Markdown verdict for the export check. It holds when the reloaded loss matches the trained one within `tol`; it is
 * only informative when training moved the loss by more than that (else a broken export could pass), which is said.
 */
export function exportVerdict(check: ExportCheck, tol = 1e-4): string {
  const scale = Math.max(1, Math.abs(check.evalLossRun));
  const diff = Math.abs(check.evalLossReloaded - check.evalLossRun);
  const moved = Math.abs(check.evalLossRun - check.evalLossBase);
  const verdict = diff > tol * scale ? '**fails**' : moved > 10 * tol * scale ? '**holds**' : '**inconclusive** (training moved the loss too little to tell a broken export apart)';
  return [
    `**Verdict (export)**: ${verdict}. The PEFT folder (${check.tensors.length} tensors, largest |value| ${check.maxAbsTensor.toExponential(2)}) loaded into a fresh`,
    `copy of the checkpoint gives held-out loss ${check.evalLossReloaded.toFixed(5)} against ${check.evalLossRun.toFixed(5)} at the end of training`,
    `(|Δ| = ${diff.toExponential(1)}, tolerance ${tol}); without the adapter the checkpoint scores ${check.evalLossBase.toFixed(5)} (training moved it by ${moved.toExponential(1)}).`,
  ].join(' ');
}
