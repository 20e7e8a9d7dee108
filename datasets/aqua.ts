/**
 * AQuA-RAT (google-deepmind/AQuA; JSON Lines despite the .json name): question, options ["A)..", ...], rationale,
 * correct ("A".."E"). The question given to the model lists the options the way the LLM-Adapters math set does:
 * `<question> Answer Choices: (A) .. (B) ..`; the gold answer is the letter.
 */
import * as path from 'node:path';
import type { MathExample } from '../lib/data/types';
import { readRecords, str, strList, take } from './read';

export const CHOICE_LETTERS = ['A', 'B', 'C', 'D', 'E'];

/** `<question> Answer Choices: (A) x (B) y ...` */
export function withChoices(question: string, choices: string[]): string {
  return `${question.trim()} Answer Choices: ${choices.map((c, i) => `(${CHOICE_LETTERS[i]}) ${c}`).join(' ')}`;
}

export function loadAqua(file: string, opts: { limit?: number; split?: string } = {}): MathExample[] {
  const split = opts.split ?? path.basename(file).replace(/\..*$/, '');
  return take(readRecords(file), opts.limit, 'loadAqua').map((rec) => {
    const options = strList(rec, 'options');
    const choices = options.map((o, i) => {
      const m = /^\s*([A-E])\s*\)\s*(.*)$/s.exec(o);
      if (!m || m[1] !== CHOICE_LETTERS[i]) throw new Error(`${rec.where}: option ${i} '${o}' is not '${CHOICE_LETTERS[i]})...'`);
      return m[2].trim();
    });
    const correct = str(rec, 'correct').trim().toUpperCase();
    if (!CHOICE_LETTERS.slice(0, choices.length).includes(correct)) {
      throw new Error(`${rec.where}: field 'correct' is '${correct}', not one of the ${choices.length} option letters`);
    }
    return {
      id: `aqua-${split}-${rec.index}`,
      question: withChoices(str(rec, 'question'), choices),
      answer: correct,
      solution: str(rec, 'rationale'),
      choices,
    };
  });
}
