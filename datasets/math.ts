/**
 * MATH (Hendrycks et al.) JSONL: fields problem/solution (+ level, type) for the full test set, or problem/solution/
 * answer (+ subject, level, unique_id) for MATH-500. The gold answer is the last `\boxed{...}` of the solution
 * (nested braces respected), or the `answer` field when the file has one.
 */
import * as path from 'node:path';
import { extractBoxed } from '../lib/data/answers';
import { normalizeAnswer } from '../lib/data/normalize';
import type { MathExample } from '../lib/data/types';
import { readRecords, str, take } from './read';

export interface MathOptions {
  limit?: number;
  /** Split name used in ids (default: the file name without extension). */
  split?: string;
  /** 'original' (default): the solution as published; 'metamath': the solution plus a final `The answer is: X` line. */
  style?: 'original' | 'metamath';
}

export function loadMath(file: string, opts: MathOptions = {}): MathExample[] {
  const split = opts.split ?? path.basename(file).replace(/\..*$/, '');
  const style = opts.style ?? 'original';
  if (style !== 'metamath' && style !== 'original') throw new Error(`loadMath: style must be 'metamath' or 'original', got '${style}'`);
  return take(readRecords(file), opts.limit, 'loadMath').map((rec) => {
    const question = str(rec, 'problem');
    const solution = str(rec, 'solution');
    const boxed = extractBoxed(solution);
    const given = rec.value.answer === undefined ? null : str(rec, 'answer');
    const raw = given ?? boxed;
    if (raw === null) throw new Error(`${rec.where}: field 'solution' has no \\boxed{...} answer`);
    const answer = normalizeAnswer(raw);
    const meta: Record<string, string | number | boolean> = { rawAnswer: raw };
    for (const k of ['level', 'type', 'subject', 'unique_id', 'idx']) {
      const v = rec.value[k];
      if (typeof v === 'string' || typeof v === 'number') meta[k] = v;
    }
    const sol = style === 'metamath' ? `${solution}\nThe answer is: ${raw}` : solution;
    return { id: `math-${split}-${rec.index}`, question, answer, solution: sol, meta };
  });
}
