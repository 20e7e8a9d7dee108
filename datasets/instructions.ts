/**
 * Instruction sets: MT-Bench questions (question_id, category, turns[2], reference?) and Self-Instruct tasks
 * (id, instruction, instances [{input, output}]). Each becomes one prompt, with its reference output when there is one.
 */
import type { Located } from './read';
import { readRecords, num, str, strList, take } from './read';

export interface InstructionExample {
  id: string;
  instruction: string;
  /** Extra input for the instruction ('' when none). */
  input: string;
  /** Reference output, when the source has one. */
  output?: string;
  category?: string;
  /** Follow-up turns (MT-Bench's second question). */
  followUps?: string[];
}

export function loadMtBench(file: string, opts: { limit?: number } = {}): InstructionExample[] {
  return take(readRecords(file), opts.limit, 'loadMtBench').map((rec) => {
    const turns = strList(rec, 'turns');
    if (turns.length === 0) throw new Error(`${rec.where}: field 'turns' is empty`);
    const ref = rec.value.reference;
    return {
      id: `mt-bench-${num(rec, 'question_id')}`,
      instruction: turns[0],
      input: '',
      ...(Array.isArray(ref) && typeof ref[0] === 'string' ? { output: ref[0] } : {}),
      category: str(rec, 'category'),
      followUps: turns.slice(1),
    };
  });
}

function instances(rec: Located): { input: string; output: string }[] {
  const v = rec.value.instances;
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${rec.where}: field 'instances' must be a non-empty list`);
  return v.map((x, i) => {
    if (!x || typeof x.input !== 'string' || typeof x.output !== 'string') {
      throw new Error(`${rec.where}: instances[${i}] needs string input and output`);
    }
    return { input: x.input, output: x.output };
  });
}

/** Self-Instruct seed tasks or user-oriented instructions: one example per instance. */
export function loadSelfInstruct(file: string, opts: { limit?: number } = {}): InstructionExample[] {
  const out: InstructionExample[] = [];
  for (const rec of readRecords(file)) {
    const id = str(rec, 'id');
    const instruction = str(rec, 'instruction');
    const category = typeof rec.value.motivation_app === 'string' ? rec.value.motivation_app : typeof rec.value.name === 'string' ? rec.value.name : undefined;
    instances(rec).forEach((x, i) => out.push({ id: `${id}-${i}`, instruction, input: x.input, output: x.output, ...(category ? { category } : {}) }));
  }
  return take(out, opts.limit, 'loadSelfInstruct');
}
