/**
 * SVAMP (arkilpatel/SVAMP JSON array: ID, Body, Question, Equation, Answer as a float, Type). The question is
 * Body + " " + Question; there is no worked solution (the equation is kept in meta).
 */
import { normalizeAnswer } from '../lib/data/normalize';
import type { MathExample } from '../lib/data/types';
import { num, readRecords, str, take } from './read';

export function loadSvamp(file: string, opts: { limit?: number } = {}): MathExample[] {
  return take(readRecords(file), opts.limit, 'loadSvamp').map((rec) => {
    const question = `${str(rec, 'Body').trim()} ${str(rec, 'Question').trim()}`;
    const answer = normalizeAnswer(String(num(rec, 'Answer')));
    return {
      id: `svamp-${str(rec, 'ID')}`,
      question,
      answer,
      meta: { equation: str(rec, 'Equation').trim(), type: str(rec, 'Type') },
    };
  });
}
