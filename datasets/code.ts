/**
 * Code benchmarks: HumanEval (gzip JSONL: task_id, prompt, entry_point, canonical_solution, test) and MBPP
 * (JSON array: task_id, prompt, code, test_imports, test_list). Running the tests executes untrusted Python, which
 * the kit does not do; these loaders give prompts and reference solutions for training and generation.
 */
import { readRecords, num, str, strList, take } from './read';

export interface CodeProblem {
  id: string;
  /** What the model is given: HumanEval's signature + docstring, MBPP's task sentence. */
  prompt: string;
  /** The reference solution. */
  solution: string;
  /** Test code (HumanEval `check(candidate)`; MBPP imports + asserts, one per line). */
  tests: string;
  entryPoint?: string;
}

export function loadHumanEval(file: string, opts: { limit?: number } = {}): CodeProblem[] {
  return take(readRecords(file), opts.limit, 'loadHumanEval').map((rec) => ({
    id: str(rec, 'task_id'),
    prompt: str(rec, 'prompt'),
    solution: str(rec, 'canonical_solution'),
    tests: str(rec, 'test'),
    entryPoint: str(rec, 'entry_point'),
  }));
}

/** MBPP; `testSplitOnly` keeps task ids 11-510, the benchmark's test split. */
export function loadMbpp(file: string, opts: { limit?: number; testSplitOnly?: boolean } = {}): CodeProblem[] {
  const all = readRecords(file).map((rec) => {
    const taskId = num(rec, 'task_id');
    const text = typeof rec.value.prompt === 'string' ? str(rec, 'prompt') : str(rec, 'text'); // sanitized: prompt; full: text
    return {
      taskId,
      problem: {
        id: `mbpp-${taskId}`,
        prompt: text,
        solution: str(rec, 'code'),
        tests: [...strList(rec, 'test_imports'), ...strList(rec, 'test_list')].join('\n'),
      },
    };
  });
  const kept = opts.testSplitOnly ? all.filter((r) => r.taskId >= 11 && r.taskId <= 510) : all;
  return take(kept.map((r) => r.problem), opts.limit, 'loadMbpp');
}
