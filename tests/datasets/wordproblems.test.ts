import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extractAnswer, numbersIn } from '../../lib/data/answers';
import { formatPrompt, formatTarget } from '../../lib/data/prompt';
import { generateCorpus } from '../../datasets/corpus';
import { generateWordProblems, tupleSplit, type WordProblem } from '../../datasets/wordproblems';
import { allPairs, CONTINUERS, HELD_OUT_PAIRS, OPENERS } from '../../datasets/wordproblem-templates';

const train = generateWordProblems({ seed: 7, n: 4000, split: 'train' });
const evalSet = generateWordProblems({ seed: 7, n: 1500, split: 'eval' });

const OPS: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
};

/** Re-derive the answer from the solution text alone: every step is `a op b = c`, operands come from the question or earlier steps. */
function rederive(p: WordProblem): number {
  const known = new Set(numbersIn(p.question).map(Number));
  const steps = [...p.solution.matchAll(/(\d+) ([-+*/]) (\d+) = (\d+)/g)];
  assert.ok(steps.length === p.meta.steps, `${p.id}: ${steps.length} steps, expected ${p.meta.steps}: ${p.solution}`);
  let last = NaN;
  for (const [, a, op, b, c] of steps) {
    const [x, y, z] = [Number(a), Number(b), Number(c)];
    assert.ok(known.has(x) && known.has(y), `${p.id}: operand of '${a} ${op} ${b}' appears neither in the question nor earlier`);
    assert.is(OPS[op](x, y), z, `${p.id}: ${a} ${op} ${b} = ${c} is wrong`);
    known.add(z);
    last = z;
  }
  return last;
}

test('every answer is re-derived from the steps shown in its solution', () => {
  for (const p of [...train, ...evalSet]) {
    const v = rederive(p);
    assert.is(String(v), p.answer, `${p.id}: last step ${v} vs answer ${p.answer}`);
    assert.is(extractAnswer(p.solution), p.answer, `${p.id}: 'The answer is: N' line`);
    assert.ok(Number.isInteger(v) && v >= 0, `${p.id}: answer ${v} is a non-negative integer`);
  }
});

test('deterministic per seed, and problem i does not depend on n', () => {
  const a = generateWordProblems({ seed: 7, n: 50, split: 'train' });
  assert.equal(a, train.slice(0, 50));
  const b = generateWordProblems({ seed: 8, n: 50, split: 'train' });
  assert.ok(b.filter((p, i) => p.question === a[i].question).length < 5, 'another seed gives other problems');
});

test('eval never repeats a training problem: numbers and held-out template pairs are eval-only', () => {
  const held = new Set(HELD_OUT_PAIRS);
  const trainQuestions = new Set(train.map((p) => p.question));
  for (const p of train) {
    assert.not.ok(held.has(p.meta.templates), `${p.id}: held-out pair ${p.meta.templates} in train`);
    assert.is(tupleSplit(p.meta.templates, numbersIn(p.question).map(Number)), 'train', `${p.id}: numbers owned by eval`);
  }
  for (const p of evalSet) {
    assert.not.ok(trainQuestions.has(p.question), `${p.id} also in train`);
    assert.is(tupleSplit(p.meta.templates, numbersIn(p.question).map(Number)), 'eval', `${p.id}: numbers owned by train`);
    assert.is(p.meta.novelty, held.has(p.meta.templates) ? 'new-combination' : 'new-numbers');
  }
  const evalPairs = new Set(evalSet.map((p) => p.meta.templates));
  for (const h of HELD_OUT_PAIRS) assert.ok(evalPairs.has(h), `held-out pair ${h} appears in eval`);
  const novel = evalSet.filter((p) => p.meta.novelty === 'new-combination').length / evalSet.length;
  assert.ok(novel > 0.4 && novel < 0.6, `about half of eval is unseen combinations (${novel.toFixed(2)})`);
});

test('templates: 22 in all, every one used in training, pairs type-compatible', () => {
  assert.is(OPENERS.length + CONTINUERS.length, 22);
  const pairs = allPairs();
  for (const h of HELD_OUT_PAIRS) assert.ok(pairs.includes(h), `${h} is a valid pair`);
  const used = new Set(train.flatMap((p) => p.meta.templates.split('+').map((t, i) => `${i}:${t}`)));
  for (const o of OPENERS) assert.ok(used.has(`0:${o.id}`), `opener ${o.id} in train`);
  for (const c of CONTINUERS) assert.ok(used.has(`1:${c.id}`), `continuer ${c.id} in train`);
  const single = train.filter((p) => p.meta.steps === 1).length / train.length;
  assert.ok(single > 0.25 && single < 0.35, `about 30% one-step problems in train (${single.toFixed(2)})`);
});

test('problems are short: the QA prompt + target fits 256 characters', () => {
  const lens = [...train, ...evalSet].map((p) => formatPrompt(p.question, 'qa').length + formatTarget(p.solution, 'qa').length + 1);
  const max = Math.max(...lens);
  const mean = lens.reduce((s, x) => s + x, 0) / lens.length;
  assert.ok(max <= 240, `longest QA example is ${max} chars`);
  assert.ok(mean < 190, `mean QA example is ${mean.toFixed(1)} chars`);
});

test('bad options are rejected by name', () => {
  assert.throws(() => generateWordProblems({ seed: 0, n: 5, split: 'train', mix: { heldOut: 0.5 } }), /mix.heldOut must be 0 for the train split/);
  assert.throws(() => generateWordProblems({ seed: 0, n: -1, split: 'train' }), /n must be a non-negative integer, got -1/);
  assert.throws(() => generateWordProblems({ seed: 0, n: 1, split: 'test' as 'eval' }), /split must be 'train' or 'eval', got 'test'/);
  const onlyHeld = generateWordProblems({ seed: 0, n: 40, split: 'eval', mix: { single: 0, pair: 0, heldOut: 1 } });
  assert.ok(onlyHeld.every((p) => p.meta.novelty === 'new-combination'));
});

test('corpus: exact length, deterministic, prefix-stable, correct arithmetic, covers every character of the problems', () => {
  const c = generateCorpus({ seed: 3, chars: 200_000 });
  assert.is(c.length, 200_000);
  assert.is(generateCorpus({ seed: 3, chars: 5000 }), c.slice(0, 5000));
  assert.is.not(generateCorpus({ seed: 4, chars: 5000 }), c.slice(0, 5000));
  let facts = 0;
  for (const [, a, op, b, r] of c.matchAll(/(?<![\d.])(\d+) ([-+*/]) (\d+) = (\d+)(?![\d])/g)) {
    assert.is(OPS[op](Number(a), Number(b)), Number(r), `corpus fact ${a} ${op} ${b} = ${r}`);
    facts++;
  }
  const words: Record<string, string> = { plus: '+', minus: '-', times: '*', 'divided by': '/' };
  for (const [, a, w, b, r] of c.matchAll(/(?<![\d.])(\d+) (plus|minus|times|divided by) (\d+) is (\d+)/g)) {
    assert.is(OPS[words[w]](Number(a), Number(b)), Number(r), `corpus fact ${a} ${w} ${b} is ${r}`);
    facts++;
  }
  assert.ok(facts > 3000, `${facts} arithmetic facts checked`);
  const have = new Set(c);
  const need = new Set([...train, ...evalSet].map((p) => p.question + p.solution).join('') + formatPrompt('', 'alpaca') + formatPrompt('', 'qa'));
  const missing = [...need].filter((ch) => !have.has(ch));
  assert.equal(missing, [], 'characters of the problems and prompts missing from the corpus');
  const twoStep = c.split('\n').filter((line) => /[a-z][^=\n]*= \d+ [a-z][^=\n]*\. [A-Z][^=\n]* \d+ [-+*/] \d+ = /.test(line) && !/^\d/.test(line));
  assert.equal(twoStep.slice(0, 3), [], 'no chained two-step stories (those are what eval tests)');
  assert.throws(() => generateCorpus({ seed: 0, chars: 0 }), /chars must be a positive integer, got 0/);
});

test.run();
