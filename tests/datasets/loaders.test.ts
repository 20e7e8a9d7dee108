import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractAnswer, isCorrect } from '../../lib/data/answers';
import { loadAqua } from '../../datasets/aqua';
import { loadHumanEval, loadMbpp } from '../../datasets/code';
import { loadTextCorpus } from '../../datasets/corpus';
import { loadGsm8k } from '../../datasets/gsm8k';
import { loadMtBench, loadSelfInstruct } from '../../datasets/instructions';
import { loadLlmAdaptersMath, parseAnswerChoices } from '../../datasets/llm-adapters';
import { loadMath } from '../../datasets/math';
import { loadMetaMath } from '../../datasets/metamath';
import { loadSvamp } from '../../datasets/svamp';
import { loadTaskData } from '../../datasets/tasks';
import { SHARED } from '../util';

const D = path.join(SHARED, 'datasets');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-loaders-'));
const write = (name: string, text: string): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('GSM8K: record counts, gold after ####, MetaMath-style solutions without calculator notes', () => {
  const testSet = loadGsm8k(path.join(D, 'gsm8k', 'test.jsonl'));
  const train = loadGsm8k(path.join(D, 'gsm8k', 'train.jsonl'));
  assert.is(testSet.length, 1319);
  assert.is(train.length, 7473);
  assert.is(testSet[0].id, 'gsm8k-test-0');
  assert.is(testSet[0].answer, '18');
  assert.ok(testSet[0].question.startsWith('Janet'));
  for (const e of [...testSet, ...train]) {
    assert.not.ok(e.solution!.includes('<<'), `${e.id}: calculator note left`);
    assert.is(extractAnswer(e.solution!), e.answer, `${e.id}: the solution ends in its own answer`);
  }
  assert.ok(train.some((e) => e.answer === '1200'), 'comma answers normalised (1,200 -> 1200)');
  const orig = loadGsm8k(path.join(D, 'gsm8k', 'test.jsonl'), { style: 'original', limit: 2 });
  assert.is(orig.length, 2);
  assert.ok(orig[0].solution!.includes('<<16-3-4=9>>') && orig[0].solution!.endsWith('#### 18'));
});

test('MATH: 5,000 test + MATH-500, answers from the last \\boxed (nested braces) with level/type kept', () => {
  const full = loadMath(path.join(D, 'math', 'test.jsonl'));
  assert.is(full.length, 5000);
  assert.is(full[2].answer, '\\frac{9}{7}');
  assert.is(full[0].meta!.level, 'Level 3');
  const m500 = loadMath(path.join(D, 'math', 'math500_test.jsonl'));
  assert.is(m500.length, 500);
  assert.is(m500[0].answer, '(3,\\frac{\\pi}{2})');
  const byProblem = new Map(full.map((e) => [e.question, e]));
  let same = 0;
  for (const e of m500) if (byProblem.has(e.question) && isCorrect(byProblem.get(e.question)!.answer, e.answer)) same++;
  assert.is(same, 500, 'MATH-500 problems are in the full test set with the same gold answer');
});

test('LLM-Adapters math: 3,260 records, numeric and letter answers, rationale agreement flagged', () => {
  const all = loadLlmAdaptersMath(path.join(D, 'llm-adapters-math', 'math_data.json'));
  assert.is(all.length, 3260);
  assert.is(all[0].answer, '4');
  const letters = all.filter((e) => /^[A-E]$/.test(e.answer));
  assert.is(letters.length, 203);
  assert.ok(letters.every((e) => e.choices && e.choices.length === 5), 'letter answers come with their choices');
  const agree = all.filter((e) => e.meta!.solutionAgrees).length;
  assert.is(agree, 2491, 'rationales whose final answer equals the gold answer');
  assert.is(loadLlmAdaptersMath(path.join(D, 'llm-adapters-math', 'math_data.json'), { consistentOnly: true }).length, agree);
  assert.equal(parseAnswerChoices('Q? Answer Choices: (A) 750 (B) 7.5 (C) $3 (D) x (E) None of these'), ['750', '7.5', '$3', 'x', 'None of these']);
});

test('SVAMP and AQuA', () => {
  const sv = loadSvamp(path.join(D, 'svamp', 'SVAMP.json'));
  assert.is(sv.length, 1000);
  assert.is(sv[0].id, 'svamp-chal-1');
  assert.is(sv[0].answer, '51');
  assert.ok(sv[0].question.endsWith('How much do you have to pay to buy each pack?'));
  for (const split of ['test', 'dev']) {
    const aq = loadAqua(path.join(D, 'aqua', `${split}.json`));
    assert.is(aq.length, 254);
    assert.ok(aq.every((e) => /^[A-E]$/.test(e.answer) && e.choices!.length === 5 && e.question.includes('Answer Choices: (A) ')));
  }
});

test('code and instruction sets', () => {
  const he = loadHumanEval(path.join(D, 'humaneval', 'HumanEval.jsonl.gz'));
  assert.is(he.length, 164);
  assert.is(he[0].id, 'HumanEval/0');
  assert.ok(he[0].tests.includes('def check(candidate)'));
  assert.is(loadMbpp(path.join(D, 'mbpp', 'sanitized-mbpp.json')).length, 427);
  assert.is(loadMbpp(path.join(D, 'mbpp', 'sanitized-mbpp.json'), { testSplitOnly: true }).length, 257);
  const mt = loadMtBench(path.join(D, 'mt-bench', 'question.jsonl'));
  assert.is(mt.length, 80);
  assert.ok(mt.every((q) => q.followUps!.length === 1));
  assert.is(loadSelfInstruct(path.join(D, 'self-instruct', 'user_oriented_instructions.jsonl')).length, 252);
  assert.is(loadSelfInstruct(path.join(D, 'self-instruct', 'seed_tasks.jsonl')).length, 175);
  const shakespeare = loadTextCorpus(path.join(D, 'tinyshakespeare', 'input.txt'));
  assert.is(shakespeare.length, 1115394);
  assert.ok(shakespeare.startsWith('First Citizen:'));
});

test('MetaMathQA-style JSONL and JSON arrays', () => {
  const rows = [
    { query: 'Ann has 3 pens and buys 2. How many?', response: 'She has 3 + 2 = 5.\nThe answer is: 5', type: 'GSM_AnsAug' },
    { query: 'Find x.', response: 'So $x = \\boxed{\\frac{1}{2}}$.\nThe answer is: \\frac{1}{2}' },
  ];
  const a = loadMetaMath(write('mm.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const b = loadMetaMath(write('mm.json', JSON.stringify(rows, null, 2)));
  assert.equal(a.map((e) => e.answer), ['5', '\\frac{1}{2}']);
  assert.equal(b.map((e) => e.answer), a.map((e) => e.answer));
  assert.is(a[0].meta!.type, 'GSM_AnsAug');
  assert.is(a[0].solution, rows[0].response);
});

test('malformed files: errors name the file and the line (or record) and the field', () => {
  const good = JSON.stringify({ question: 'q', answer: 'a\n#### 3' });
  const bad = write('bad.jsonl', [good, good, '{"question": "q", "answer": ', good].join('\n'));
  assert.throws(() => loadGsm8k(bad), (e: Error) => e.message.startsWith(`${bad}:3: malformed JSON`));
  const noField = write('nofield.jsonl', [good, JSON.stringify({ question: 'q' })].join('\n'));
  assert.throws(() => loadGsm8k(noField), (e: Error) => e.message === `${noField}:2: field 'answer' must be a string, got nothing`);
  const noHash = write('nohash.jsonl', [good, good, good, JSON.stringify({ question: 'q', answer: 'just text' })].join('\n'));
  assert.throws(() => loadGsm8k(noHash), (e: Error) => e.message.startsWith(`${noHash}:4: field 'answer' has no '#### <answer>'`));
  const arr = write('arr.json', JSON.stringify([{ query: 'q', response: 'The answer is: 1' }, { query: 'q', response: 'no answer' }]));
  assert.throws(() => loadMetaMath(arr), (e: Error) => e.message.startsWith(`${arr} record #1: field 'response' has no final answer`));
  const broken = write('broken.json', '[\n{"query": "q",\n"response": }\n]');
  assert.throws(() => loadMetaMath(broken), (e: Error) => e.message.startsWith(`${broken}:3: malformed JSON`));
  const badChoice = write('aq.json', JSON.stringify({ question: 'q', options: ['A)1', 'B)2'], rationale: 'r', correct: 'D' }));
  assert.throws(() => loadAqua(badChoice), /aq.json:1: field 'correct' is 'D', not one of the 2 option letters/);
  assert.throws(() => loadGsm8k(path.join(tmp, 'missing.jsonl')), /dataset file not found/);
});

test('loadTaskData: wordproblems, gsm8k folder, metamath + GSM8K eval, clear errors', () => {
  const wp = loadTaskData({ task: 'wordproblems', path: null, trainExamples: 30, evalExamples: 10 }, { seed: 1 });
  assert.is(wp.train.length, 30);
  assert.is(wp.eval.length, 10);
  const g = loadTaskData({ task: 'gsm8k', path: path.join(D, 'gsm8k'), trainExamples: 100, evalExamples: 20 }, { seed: 0 });
  assert.is(g.train[0].id, 'gsm8k-train-0');
  assert.is(g.eval[19].id, 'gsm8k-test-19');
  const mmFile = write('mm2.jsonl', JSON.stringify({ query: 'q', response: 'The answer is: 1' }) + '\n');
  const mm = loadTaskData({ task: 'metamath', path: mmFile, trainExamples: 1, evalExamples: 5 }, { seed: 0, evalPath: path.join(D, 'gsm8k', 'test.jsonl') });
  assert.is(mm.eval.length, 5);
  assert.throws(() => loadTaskData({ task: 'metamath', path: mmFile, trainExamples: 1, evalExamples: 5 }, { seed: 0 }), /evalPath/);
  assert.throws(() => loadTaskData({ task: 'metamath', path: mmFile, trainExamples: 2, evalExamples: 5 }, { seed: 0, evalPath: path.join(D, 'gsm8k', 'test.jsonl') }), /data.trainExamples=2, but .* has only 1 records/);
  assert.throws(() => loadTaskData({ task: 'gsm8k', path: null, trainExamples: 1, evalExamples: 1 }, { seed: 0 }), /data.path/);
});

test.run();
