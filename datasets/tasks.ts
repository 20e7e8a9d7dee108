/**
 * From an experiment's `data` block to train and eval examples: the generated word problems, GSM8K, or a
 * MetaMathQA-style file evaluated on GSM8K test (the paper's MetaMathQA -> GSM8K setup).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MathExample } from '../lib/data/types';
import { loadGsm8k } from './gsm8k';
import { loadMetaMath } from './metamath';
import { generateWordProblems } from './wordproblems';

export interface TaskDataSpec {
  task: 'wordproblems' | 'metamath' | 'gsm8k';
  /** gsm8k: a folder with train.jsonl and test.jsonl, or the train file; metamath: the JSON/JSONL file. */
  path: string | null;
  trainExamples: number;
  evalExamples: number;
}

export interface TaskData {
  train: MathExample[];
  eval: MathExample[];
  /** Where the examples came from, for results. */
  source: { train: string; eval: string };
}

export interface TaskDataOptions {
  /** Seed of the generated problems (wordproblems only). */
  seed: number;
  /** Eval file (GSM8K-format JSONL): required for metamath; for gsm8k defaults to test.jsonl beside the train file. */
  evalPath?: string;
}

function firstN(xs: MathExample[], n: number, field: string, file: string): MathExample[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`data.${field} must be a non-negative integer, got ${n}`);
  if (n > xs.length) throw new Error(`data.${field}=${n}, but ${file} has only ${xs.length} records`);
  return xs.slice(0, n);
}

export function loadTaskData(spec: TaskDataSpec, opts: TaskDataOptions): TaskData {
  if (spec.task === 'wordproblems') {
    return {
      train: generateWordProblems({ seed: opts.seed, n: spec.trainExamples, split: 'train' }),
      eval: generateWordProblems({ seed: opts.seed, n: spec.evalExamples, split: 'eval' }),
      source: { train: `wordproblems(seed=${opts.seed}, train)`, eval: `wordproblems(seed=${opts.seed}, eval)` },
    };
  }
  if (spec.path === null) throw new Error(`data.path: task '${spec.task}' reads a file, so data.path must be set`);
  if (!fs.existsSync(spec.path)) throw new Error(`data.path: '${spec.path}' does not exist`);
  if (spec.task === 'gsm8k') {
    const dir = fs.statSync(spec.path).isDirectory();
    const trainFile = dir ? path.join(spec.path, 'train.jsonl') : spec.path;
    const evalFile = opts.evalPath ?? path.join(dir ? spec.path : path.dirname(spec.path), 'test.jsonl');
    return {
      train: firstN(loadGsm8k(trainFile, { split: 'train' }), spec.trainExamples, 'trainExamples', trainFile),
      eval: firstN(loadGsm8k(evalFile, { split: 'test' }), spec.evalExamples, 'evalExamples', evalFile),
      source: { train: trainFile, eval: evalFile },
    };
  }
  if (spec.task === 'metamath') {
    if (!opts.evalPath) throw new Error("data: task 'metamath' is evaluated on GSM8K test; give its test.jsonl as evalPath");
    return {
      train: firstN(loadMetaMath(spec.path, { limit: spec.trainExamples }), spec.trainExamples, 'trainExamples', spec.path),
      eval: firstN(loadGsm8k(opts.evalPath, { split: 'test' }), spec.evalExamples, 'evalExamples', opts.evalPath),
      source: { train: spec.path, eval: opts.evalPath },
    };
  }
  throw new Error(`data.task must be 'wordproblems', 'metamath' or 'gsm8k', got '${String((spec as { task: unknown }).task)}'`);
}
