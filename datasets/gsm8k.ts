/**
 * GSM8K (openai/grade-school-math JSONL, fields question/answer). The answer text holds calculator notes `<<a*b=c>>`
 * and ends with `#### N`; the gold answer is N, normalised (`1,000` -> `1000`).
 */
import * as path from 'node:path';
import { normalizeAnswer } from '../lib/data/normalize';
import type { MathExample } from '../lib/data/types';
import { readRecords, str, take } from './read';

export interface Gsm8kOptions {
  /** Keep the first `limit` records. */
  limit?: number;
  /** Split name used in ids (default: the file name without extension, e.g. `test`). */
  split?: string;
  /**
   * Solution text: 'metamath' (default) drops the calculator notes and ends with `The answer is: N`, the format the
   * kit trains and extracts; 'original' keeps the answer text as published.
   */
  style?: 'metamath' | 'original';
}

/** Remove GSM8K calculator annotations `<<...>>`. */
export function stripCalculatorNotes(text: string): string {
  return text.replace(/<<[^>]*>>/g, '');
}

export function loadGsm8k(file: string, opts: Gsm8kOptions = {}): MathExample[] {
  const split = opts.split ?? path.basename(file).replace(/\..*$/, '');
  const style = opts.style ?? 'metamath';
  if (style !== 'metamath' && style !== 'original') throw new Error(`loadGsm8k: style must be 'metamath' or 'original', got '${style}'`);
  return take(readRecords(file), opts.limit, 'loadGsm8k').map((rec) => {
    const question = str(rec, 'question');
    const full = str(rec, 'answer');
    const at = full.lastIndexOf('####');
    if (at < 0) throw new Error(`${rec.where}: field 'answer' has no '#### <answer>' line`);
    const answer = normalizeAnswer(full.slice(at + 4));
    if (!answer) throw new Error(`${rec.where}: field 'answer' has an empty '####' answer`);
    const reasoning = stripCalculatorNotes(full.slice(0, at)).trimEnd();
    const solution = style === 'original' ? full : `${reasoning}\nThe answer is: ${answer}`;
    return { id: `gsm8k-${split}-${rec.index}`, question, answer, solution };
  });
}
