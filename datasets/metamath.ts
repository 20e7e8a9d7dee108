/**
 * MetaMathQA-style data: JSON Lines or a JSON array of {query, response} (MetaMathQA-395K.json also has `type` and
 * `original_question`). The gold answer is extracted from the response's final `The answer is: X`.
 */
import * as path from 'node:path';
import { extractAnswer } from '../lib/data/answers';
import type { MathExample } from '../lib/data/types';
import { readRecords, str, take } from './read';

export interface MetaMathOptions {
  limit?: number;
  /** Name used in ids (default: the file name without extension). */
  name?: string;
}

export function loadMetaMath(file: string, opts: MetaMathOptions = {}): MathExample[] {
  const name = opts.name ?? path.basename(file).replace(/\..*$/, '');
  return take(readRecords(file), opts.limit, 'loadMetaMath').map((rec) => {
    const question = str(rec, 'query');
    const solution = str(rec, 'response');
    const answer = extractAnswer(solution, { lastNumberFallback: false });
    if (answer === null) throw new Error(`${rec.where}: field 'response' has no final answer ('The answer is: X', '####' or \\boxed{})`);
    const meta: Record<string, string | number | boolean> = {};
    if (typeof rec.value.type === 'string') meta.type = rec.value.type;
    return { id: `${name}-${rec.index}`, question, answer, solution, meta };
  });
}
