/**
 * The fine-tuning task of an experiment: train and held-out problems, the prompt template, and step-indexed batches.
 * The problem sets are fixed by the task (generated word problems use data seed 0; files are read in order) so every
 * run of an experiment sees the same data; the run's seed only changes the batch order and the adapter init.
 */
import { generateWordProblems } from '../../datasets/wordproblems';
import { loadGsm8k } from '../../datasets/gsm8k';
import { loadMetaMath } from '../../datasets/metamath';
import { batchEncoded, BatchSchedule } from '../data/batch';
import { encodeExamples, type EncodeStats } from '../data/encode';
import type { Batch, MathExample, TokenizerLike } from '../data/types';
import type { ExperimentConfig } from '../experiments/types';
import { deriveSeed } from '../util/random';

/** Seed of the generated word-problem sets (the task's data, shared by every run). */
export const WORDPROBLEM_DATA_SEED = 0;

export interface TaskData {
  train: MathExample[];
  eval: MathExample[];
  /** 'qa' for the kit's char-level bases (their context is short), the paper's 'alpaca' for HF checkpoints. */
  template: 'qa' | 'alpaca';
  schedule: BatchSchedule;
  evalBatches: Batch[];
  trainStats: EncodeStats;
  evalStats: EncodeStats;
}

/** Train and held-out problems for cfg.data (files: the first trainExamples, then the next evalExamples). */
export function loadTaskExamples(d: ExperimentConfig['data']): { train: MathExample[]; eval: MathExample[] } {
  if (d.task === 'wordproblems') {
    return {
      train: generateWordProblems({ seed: WORDPROBLEM_DATA_SEED, n: d.trainExamples, split: 'train' }),
      eval: generateWordProblems({ seed: WORDPROBLEM_DATA_SEED, n: d.evalExamples, split: 'eval' }),
    };
  }
  if (!d.path) throw new Error(`data.path: task '${d.task}' reads a file, but data.path is null`);
  const n = d.trainExamples + d.evalExamples;
  const all = d.task === 'gsm8k' ? loadGsm8k(d.path, { limit: n }) : loadMetaMath(d.path, { limit: n });
  if (all.length < n)
    throw new Error(`data.path: ${d.path} has ${all.length} records, fewer than trainExamples + evalExamples = ${n}`);
  return { train: all.slice(0, d.trainExamples), eval: all.slice(d.trainExamples) };
}

/** Examples, template and batches for a run; `kitBase` selects the short template. */
export function prepareTask(cfg: ExperimentConfig, tok: TokenizerLike, kitBase: boolean): TaskData {
  const { train, eval: held } = loadTaskExamples(cfg.data);
  const template = kitBase ? 'qa' : 'alpaca';
  const enc = { maxLength: cfg.data.maxLength, template };
  const tr = encodeExamples(train, tok, enc);
  const ev = encodeExamples(held, tok, enc);
  if (tr.encoded.length === 0)
    throw new Error(`data.maxLength: ${cfg.data.maxLength} leaves no training example with a response token (prompts are longer)`);
  if (ev.encoded.length === 0) throw new Error(`data.maxLength: ${cfg.data.maxLength} leaves no held-out example with a response token`);
  const schedule = new BatchSchedule(tr.encoded, { batchSize: cfg.batchSize, seed: deriveSeed(cfg.seed, 'data-order'), padId: tok.padId });
  const evalBatches = batchEncoded(ev.encoded, { batchSize: cfg.batchSize, seed: 0, shuffle: false, padId: tok.padId });
  return { train, eval: held, template, schedule, evalBatches, trainStats: tr.stats, evalStats: ev.stats };
}
