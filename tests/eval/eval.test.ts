import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, assertNoLeak, setupBackend } from '../util';
import { ToyLM, toyBatch } from '../train/toy';
import { evalLoss, lossTokens } from '../../lib/eval/loss';
import { exactMatchAccuracy, judge, type DecodingTokenizer } from '../../lib/eval/accuracy';
import { gradientNorm } from '../../lib/eval/gradnorm';
import { collectTrainParams } from '../../lib/train/params';
import { IGNORE_INDEX, type Batch, type MathExample } from '../../lib/data/types';
import { formatPrompt } from '../../lib/data/prompt';

test.before(async () => {
  await setupBackend();
});

const V = 13;

test('held-out loss is the token-weighted mean of per-batch losses', async () => {
  await assertNoLeak('evalLoss', () => {
    const model = new ToyLM(V, 8, 1);
    const a = toyBatch(1, 2, 8, V, 2); // 2 rows x 6 scored positions = 12
    const b = toyBatch(2, 1, 8, V, 6); // 1 row x 2 scored positions
    assert.is(lossTokens(a), 12);
    assert.is(lossTokens(b), 2);
    const la = evalLoss(model, [a]);
    const lb = evalLoss(model, [b]);
    const both = evalLoss(model, [a, b]);
    assert.is(both.tokens, 14);
    assertClose([both.loss], [(la.loss * 12 + lb.loss * 2) / 14], 1e-6, 'weighted mean');
    assertClose([both.ppl], [Math.exp(both.loss)], 1e-9, 'perplexity');
    const empty: Batch = { ...b, labels: new Int32Array(8).fill(IGNORE_INDEX) };
    assert.throws(() => evalLoss(model, [empty]), /no batch has a position with a label/);
    model.dispose();
  });
});

test('initial gradient norm: total is the L2 norm over per-parameter norms, nothing is updated', async () => {
  await assertNoLeak('gradnorm', () => {
    const model = new ToyLM(V, 8, 2);
    const params = collectTrainParams(model, { loraPlusRatio: null });
    const before = Array.from(model.embed.dataSync());
    const g = gradientNorm(model, params, [toyBatch(3, 4, 8, V)]);
    const per = Object.values(g.perParam);
    assert.is(per.length, 2);
    assert.ok(per.every((x) => x > 0), 'every trainable tensor gets a gradient');
    assertClose([g.total], [Math.sqrt(per.reduce((s, x) => s + x * x, 0))], 1e-6, 'global norm');
    assert.equal(Array.from(model.embed.dataSync()), before, 'weights untouched');
    model.dispose();
  });
});

/** Characters a-z, digits, punctuation: id = index in ALPHABET; EOS = last id. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :.,?!\n#$+=()';
const charTok: DecodingTokenizer = {
  encode: (s) => [...s].map((c) => {
    const i = ALPHABET.indexOf(c);
    if (i < 0) throw new Error(`toy tokenizer: no id for ${JSON.stringify(c)}`);
    return i;
  }),
  decode: (ids) => ids.map((i) => ALPHABET[i] ?? '').join(''),
  eosId: ALPHABET.length,
  bosId: null,
  padId: ALPHABET.length,
};

test('exact-match accuracy decodes with the training prompt and judges extracted answers', async () => {
  const examples: MathExample[] = [
    { id: 'q0', question: 'What is 2 plus 3?', answer: '5' },
    { id: 'q1', question: 'What is 4 times 3?', answer: '12' },
    { id: 'q2', question: 'Pick one', answer: 'C', choices: ['a', 'b', 'c'] },
  ];
  const replies: Record<string, string> = {
    [formatPrompt(examples[0].question, 'qa')]: 'It is 2 + 3 = 5.\nThe answer is: 5',
    [formatPrompt(examples[1].question, 'qa')]: 'The answer is: 13',
    [formatPrompt(examples[2].question, 'qa')]: 'The answer is (C)',
  };
  const seen: string[] = [];
  const stub = new ToyLM(V, 4, 9);
  stub.generate = async (prompt: number[], maxNew: number, eos?: number) => {
    assert.is(eos, charTok.eosId, 'stops at the tokenizer EOS');
    const text = charTok.decode(prompt);
    seen.push(text);
    return charTok.encode(replies[text] ?? '').slice(0, maxNew);
  };
  const r = await exactMatchAccuracy(stub, charTok, examples, { maxNewTokens: 64, template: 'qa', keepSamples: 2 });
  assert.equal(seen, Object.keys(replies), 'prompts are the training template, in order');
  assert.is(r.n, 3);
  assert.is(r.correct, 2);
  assertClose([r.accuracy], [2 / 3], 1e-12, 'accuracy');
  assert.is(r.samples.length, 2);
  assert.equal(r.samples.map((s) => s.correct), [true, false]);
  assert.equal(r.byGroup, {}, 'no groups without groupOf');
  const grouped = await exactMatchAccuracy(stub, charTok, examples, {
    maxNewTokens: 64,
    template: 'qa',
    groupOf: (ex) => (ex.choices ? null : ex.id === 'q0' ? 'add' : 'mul'),
  });
  assert.equal(grouped.byGroup, { add: { correct: 1, n: 1 }, mul: { correct: 0, n: 1 } }, 'per-group counts; null leaves an example out');
  const short = await exactMatchAccuracy(stub, charTok, examples.slice(0, 1), { maxNewTokens: 6, template: 'qa' });
  assert.is(short.correct, 0, 'a truncated generation ("It is ") has no answer');
  assert.ok(judge('blah\nThe answer is: 1,000', { id: 'x', question: '', answer: '1000' }), 'numeric comparison');
  assert.not.ok(judge('no number here', { id: 'x', question: '', answer: '7' }));
  stub.dispose();
});

test.run();
