/**
 * The LLM-Adapters math SFT set (math_data.json; also math_10k/14k/50k.json): a JSON array of {instruction, input,
 * output, answer}. The gold answer is the `answer` field (`"4.0"` -> `4`, or a letter for the AQuA-style records);
 * the output is a ChatGPT rationale that does not always reach that answer, so each record says whether it does
 * (meta.solutionAgrees) and `consistentOnly` keeps only those.
 */
import * as path from 'node:path';
import { extractAnswer, isCorrect } from '../lib/data/answers';
import { normalizeAnswer } from '../lib/data/normalize';
import type { MathExample } from '../lib/data/types';
import { readRecords, str, take } from './read';

export interface LlmAdaptersOptions {
  limit?: number;
  /** Keep only records whose rationale's final answer equals the gold answer. */
  consistentOnly?: boolean;
  name?: string;
}

/** Option texts from `... Answer Choices: (A) 750 (B) 700 ...`, or undefined. */
export function parseAnswerChoices(question: string): string[] | undefined {
  const at = question.lastIndexOf('Answer Choices:');
  if (at < 0) return undefined;
  const parts = question.slice(at + 'Answer Choices:'.length).split(/\(([A-E])\)/);
  const out: string[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) out.push(parts[i + 1].trim());
  return out.length ? out : undefined;
}

export function loadLlmAdaptersMath(file: string, opts: LlmAdaptersOptions = {}): MathExample[] {
  const name = opts.name ?? path.basename(file).replace(/\..*$/, '');
  const out: MathExample[] = [];
  for (const rec of readRecords(file)) {
    const instruction = str(rec, 'instruction');
    const input = rec.value.input === undefined ? '' : str(rec, 'input');
    const question = input.trim() ? `${instruction}\n${input}` : instruction;
    const solution = str(rec, 'output').trim();
    const answer = normalizeAnswer(str(rec, 'answer'));
    if (!answer) throw new Error(`${rec.where}: field 'answer' is empty`);
    const choices = parseAnswerChoices(instruction);
    const pred = extractAnswer(solution, { choice: choices !== undefined });
    const solutionAgrees = isCorrect(pred, answer);
    if (opts.consistentOnly && !solutionAgrees) continue;
    out.push({ id: `${name}-${rec.index}`, question, answer, solution, ...(choices ? { choices } : {}), meta: { solutionAgrees } });
  }
  return take(out, opts.limit, 'loadLlmAdaptersMath');
}
