/**
 * Greedy-decoding exact-match accuracy: each held-out question is formatted with the training prompt, decoded greedily
 * until EOS or maxNewTokens, the answer is extracted from the text and compared with the gold answer (numerically
 * when both are numbers). The same prompt encoding as training (encodePrompt) keeps the model on familiar input.
 */
import { cutAtStop, extractAnswer, isCorrect } from '../data/answers';
import { encodePrompt } from '../data/encode';
import type { PromptTemplate } from '../data/prompt';
import type { MathExample, TokenizerLike } from '../data/types';
import type { CausalLM } from '../models/types';

/** A tokenizer that can also turn ids back into text. */
export interface DecodingTokenizer extends TokenizerLike {
  decode(ids: number[]): string;
}

export interface AccuracyOptions {
  maxNewTokens: number;
  template?: PromptTemplate | string;
  /** How many decoded examples to return for inspection (default 5). */
  keepSamples?: number;
  /** Called after each example (done, total). */
  onExample?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** A group name per example (e.g. one-step vs two-step problems), to break the accuracy down; null = no group. */
  groupOf?: (ex: MathExample) => string | null;
}

export interface AccuracySample {
  prompt: string;
  output: string;
  gold: string;
  correct: boolean;
}

export interface AccuracyResult {
  accuracy: number;
  correct: number;
  n: number;
  samples: AccuracySample[];
  /** Mean generated tokens per example. */
  meanNewTokens: number;
  /** Correct and total per group, when groupOf was given. */
  byGroup: Record<string, { correct: number; n: number }>;
}

/** Whether a generated text answers `ex` correctly (multiple choice by letter, else numerically / as text). */
export function judge(output: string, ex: MathExample): boolean {
  const text = cutAtStop(output);
  const pred = extractAnswer(text, { choice: !!ex.choices?.length });
  return isCorrect(pred, ex.answer);
}

/** Exact-match accuracy of greedy decoding over `examples`. */
export async function exactMatchAccuracy(
  model: CausalLM,
  tok: DecodingTokenizer,
  examples: MathExample[],
  opts: AccuracyOptions,
): Promise<AccuracyResult> {
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 1)
    throw new Error(`eval.maxNewTokens: expected an integer >= 1, got ${opts.maxNewTokens}`);
  const keep = opts.keepSamples ?? 5;
  const samples: AccuracySample[] = [];
  let correct = 0;
  let newTokens = 0;
  let n = 0;
  const byGroup: Record<string, { correct: number; n: number }> = {};
  for (const ex of examples) {
    if (opts.signal?.aborted) break;
    const prompt = encodePrompt(ex.question, tok, opts.template);
    const out = await model.generate(prompt, opts.maxNewTokens, tok.eosId);
    const output = tok.decode(out);
    const ok = judge(output, ex);
    if (ok) correct++;
    newTokens += out.length;
    n++;
    const g = opts.groupOf?.(ex);
    if (g != null) {
      const e = (byGroup[g] ??= { correct: 0, n: 0 });
      e.n++;
      if (ok) e.correct++;
    }
    if (samples.length < keep) samples.push({ prompt: ex.question, output, gold: ex.answer, correct: ok });
    opts.onExample?.(n, examples.length);
  }
  return { accuracy: n ? correct / n : 0, correct, n, samples, meanNewTokens: n ? newTokens / n : 0, byGroup };
}
