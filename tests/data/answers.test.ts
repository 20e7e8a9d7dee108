import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cutAtStop, extractAnswer, extractBoxed, isCorrect, normalizeAnswer, numbersIn, parseNumber } from '../../lib/data/answers';
import { SHARED } from '../util';

const DATA = path.join(SHARED, 'datasets');
const jsonl = (file: string): Record<string, string>[] =>
  fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

test('extracts the marked answer in each source format', () => {
  const cases: Array<[string, string]> = [
    ['Ann pays 4 * 3 = 12 dollars.\nThe answer is: 12', '12'],
    ['so she has 9 left.\n#### 1,000', '1000'],
    ['Thus $\\boxed{\\frac{9}{7}}$.', '\\frac{9}{7}'],
    ['we get \\boxed{x^{2}+\\sqrt{2}} as claimed', 'x^{2}+\\sqrt{2}'],
    ['The answer is $36.', '36'],
    ['The answer is 0.75 miles.', '0.75'],
    ['The answer is: -5', '-5'],
    ['The final answer is 18.00', '18'],
    ['She scored 50%. The answer is 50%.', '50'],
    ['He has 7 apples and 42 pears left over', '42'],
    ['The answer is 4. Next we check it.', '4'],
    ['answer is $\\boxed{2}$ for sure', '2'],
    ['The answer is 1,000 dollars.', '1000'],
    ['The answer is $ 2,500.50 in total', '2500.5'],
  ];
  for (const [text, want] of cases) assert.is(extractAnswer(text), want, JSON.stringify(text));
});

test('the last explicit marker wins, and the number fallback can be turned off', () => {
  assert.is(extractAnswer('The answer is: 5 at first.\nActually #### 7'), '7');
  assert.is(extractAnswer('Box \\boxed{3} then \\boxed{4}'), '4');
  assert.is(extractAnswer('#### 18\nThe answer is: 18'), '18');
  assert.is(extractAnswer('no marker here, just 3 and 8', { lastNumberFallback: false }), null);
  assert.is(extractAnswer('no numbers at all'), null);
});

test('multiple-choice letters in the forms AQuA and LLM-Adapters use', () => {
  const cases: Array<[string, string]> = [
    ['So 620 in all.The answer is (C).', 'C'],
    ['x = 78.20\nAnswer: E', 'E'],
    ['so 3.85 miles\nAnswer D', 'D'],
    ['The correct option is C.', 'C'],
    ['the choice is (B) and nothing else', 'B'],
    ['we pick\nB', 'B'],
  ];
  for (const [text, want] of cases) assert.is(extractAnswer(text, { choice: true }), want, JSON.stringify(text));
  assert.is(extractAnswer('The answer is Alice.', { choice: true }), null, 'a name starting with A is not a choice');
});

test('extractBoxed respects nested braces and escaped braces', () => {
  assert.is(extractBoxed('\\boxed{\\frac{a}{b^{2}}} end'), '\\frac{a}{b^{2}}');
  assert.is(extractBoxed('\\boxed{\\{1,2\\}}'), '\\{1,2\\}');
  assert.is(extractBoxed('\\boxed{unclosed'), null);
});

test('normalisation and numeric comparison', () => {
  assert.is(normalizeAnswer('$1,000.50'), '1000.5');
  assert.is(normalizeAnswer('  +007 '), '7');
  assert.is(normalizeAnswer('-0.0'), '0');
  assert.is(normalizeAnswer('.5'), '0.5');
  assert.is(normalizeAnswer('(C)'), 'C');
  assert.is(normalizeAnswer('\\dfrac12'), '\\frac{1}{2}');
  assert.is(normalizeAnswer('x = 5'), '5');
  assert.is(normalizeAnswer('10\\text{ cm}'), '10');
  assert.is(normalizeAnswer('90^\\circ'), '90');
  assert.is(normalizeAnswer('\\left( 3, \\frac{\\pi}{2} \\right)'), '(3,\\frac{\\pi}{2})');
  assert.is(normalizeAnswer('\\text{Evelyn}'), 'Evelyn');
  assert.is(normalizeAnswer('\u22124'), '-4');
  assert.is(parseNumber('3/4'), 0.75);
  assert.is(parseNumber('-\\frac{3}{4}'), -0.75);
  assert.is(parseNumber('1/0'), null);
  assert.is(parseNumber('x^2'), null);
  assert.equal(numbersIn('sold 1,200 at $3.50, 3/4 left, x-2 and -7'), ['1,200', '3.50', '3/4', '2', '-7']);
});

test('isCorrect: equal meanings match, near misses do not', () => {
  assert.ok(isCorrect('3/4', '0.75'));
  assert.ok(isCorrect('\\frac{2}{3}', '0.6666666666666666'));
  assert.ok(isCorrect('$1,000.00', '1000'));
  assert.ok(isCorrect('18', '18.0'));
  assert.ok(isCorrect('(C)', 'C'));
  assert.ok(isCorrect('\\dfrac{9}{7}', '\\frac{9}{7}'));
  assert.not.ok(isCorrect('19', '18'));
  assert.not.ok(isCorrect('109200001', '109200000'), 'absolute tolerance, not relative');
  assert.not.ok(isCorrect('0.33', '1/3'));
  assert.not.ok(isCorrect('B', 'C'));
  assert.not.ok(isCorrect(null, '1'));
  assert.not.ok(isCorrect('', '0'));
  assert.ok(isCorrect('0.333', '1/3', { tol: 1e-3 }));
});

test('cutAtStop drops a hallucinated next instruction', () => {
  const out = 'Ann has 5 pens.\nThe answer is: 5\n\n### Instruction:\nBen has 9. The answer is: 9';
  assert.is(extractAnswer(cutAtStop(out)), '5');
});

test('GSM8K: every gold answer extracts from the full answer text (test and train)', () => {
  for (const [split, n] of [['test', 1319], ['train', 7473]] as const) {
    const rows = jsonl(path.join(DATA, 'gsm8k', `${split}.jsonl`));
    assert.is(rows.length, n, `${split} records`);
    let ok = 0;
    const bad: string[] = [];
    for (const r of rows) {
      const after = r.answer.slice(r.answer.lastIndexOf('####') + 4).trim().replace(/,/g, '');
      const got = extractAnswer(r.answer);
      if (got === after && parseNumber(got) === Number(after)) ok++;
      else bad.push(`${got} vs ${after}`);
    }
    assert.is(ok, n, `${split}: ${ok}/${n} extracted; first misses: ${bad.slice(0, 3).join('; ')}`);
  }
});

test('MATH: every solution has a boxed answer, and MATH-500 boxed answers equal its answer field', () => {
  const full = jsonl(path.join(DATA, 'math', 'test.jsonl'));
  assert.is(full.length, 5000);
  const missing = full.filter((r) => extractBoxed(r.solution) === null).length;
  assert.is(missing, 0, `${missing} MATH solutions without \\boxed`);
  const m500 = jsonl(path.join(DATA, 'math', 'math500_test.jsonl'));
  const agree = m500.filter((r) => isCorrect(extractAnswer(r.solution), r.answer)).length;
  assert.is(agree, 500, `MATH-500: ${agree}/500 boxed answers equal the answer field`);
});

test.run();
