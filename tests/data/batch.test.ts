import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchSchedule, batchEncoded, collate, epochOrder, makeBatches, packRows } from '../../lib/data/batch';
import { encodeExample, encodeExamples, encodePrompt } from '../../lib/data/encode';
import { lmBatch, lmWindows, splitStream } from '../../lib/data/lm';
import { ALPACA_TEMPLATE, formatPrompt } from '../../lib/data/prompt';
import { IGNORE_INDEX, type MathExample, type TokenizerLike } from '../../lib/data/types';

/** Char-level test tokenizer: id = char code + 3; pad 0, eos 1, bos 2. */
const tok: TokenizerLike & { decode(ids: ArrayLike<number>): string } = {
  encode: (t) => Array.from(t, (c) => c.charCodeAt(0) + 3),
  decode: (ids) => Array.from(ids, (i) => (i >= 3 ? String.fromCharCode(i - 3) : `<${i}>`)).join(''),
  eosId: 1,
  bosId: 2,
  padId: 0,
};

const ex = (i: number, q = `q${i}?`, s = `s${'x'.repeat(i % 4)}`): MathExample => ({ id: `e${i}`, question: q, answer: '0', solution: s });
const examples = Array.from({ length: 10 }, (_, i) => ex(i));

test('the Alpaca prompt is the paper script format', () => {
  assert.is(
    formatPrompt('What is 2+2?'),
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nWhat is 2+2?\n\n### Response:',
  );
  assert.is(ALPACA_TEMPLATE.targetSuffix, '\n');
  assert.throws(() => formatPrompt('x', 'nope'), /prompt template 'nope' is unknown/);
});

test('encodeExample: BOS + prompt masked, response + newline + EOS supervised', () => {
  const e = encodeExample('a', 'Add 1 and 2.', 'It is 3.', tok, { maxLength: 512 })!;
  const prompt = encodePrompt('Add 1 and 2.', tok);
  assert.is(e.promptLength, prompt.length);
  assert.is(e.inputIds[0], tok.bosId);
  assert.is(tok.decode(e.inputIds.subarray(1, e.promptLength)), formatPrompt('Add 1 and 2.'));
  assert.is(tok.decode(e.inputIds.subarray(e.promptLength)), 'It is 3.\n<1>');
  for (let t = 0; t < e.inputIds.length; t++) {
    assert.is(e.labels[t], t < e.promptLength ? IGNORE_INDEX : e.inputIds[t], `label at ${t}`);
  }
  assert.is(e.truncated, false);
  const noBos = encodeExample('b', 'q', 'r', { ...tok, bosId: null }, { maxLength: 512, template: 'qa' })!;
  assert.is(tok.decode(noBos.inputIds), 'Q: q\nA: r\n<1>');
});

test('overflow: truncate cuts to maxLength, drop skips, error names the example', () => {
  const full = encodeExample('a', 'q', 'a long response', tok, { maxLength: 512, template: 'qa' })!;
  const cut = encodeExample('a', 'q', 'a long response', tok, { maxLength: 10, template: 'qa' })!;
  assert.is(cut.inputIds.length, 10);
  assert.ok(cut.truncated);
  assert.equal(Array.from(cut.inputIds), Array.from(full.inputIds.subarray(0, 10)));
  assert.is(encodeExample('a', 'q', 'a long response', tok, { maxLength: 10, template: 'qa', overflow: 'drop' }), null);
  assert.throws(() => encodeExample('ex7', 'q', 'a long response', tok, { maxLength: 10, template: 'qa', overflow: 'error' }), /ex7.*over maxLength=10/);
  const { encoded, stats } = encodeExamples([ex(1, 'a very long question indeed'), ex(2)], tok, { maxLength: 20, template: 'qa' });
  assert.is(stats.noLoss, 1, 'the prompt alone fills maxLength: no loss left');
  assert.equal(encoded.map((e) => e.id), ['e2']);
});

test('bad inputs fail with messages that name the problem', () => {
  assert.throws(() => encodeExamples([{ id: 'nosol', question: 'q', answer: '1' }], tok, { maxLength: 64 }), /nosol.*no solution/);
  assert.throws(() => encodeExample('a', 'q', 'r', { ...tok, encode: () => [3, -1] }, { maxLength: 64 }), /invalid id -1 at position 1/);
  assert.throws(() => encodeExample('a', 'q', 'r', { ...tok, eosId: 1.5 }, { maxLength: 64 }), /tokenizer.eosId/);
  assert.throws(() => makeBatches(examples, tok, { batchSize: 0, maxLength: 64, seed: 0 }), /batchSize must be an integer >= 1, got 0/);
  assert.throws(() => makeBatches(examples, tok, { batchSize: 2, maxLength: 1, seed: 0 }), /maxLength must be an integer >= 2/);
});

test('makeBatches: padded [B, T], each example once per epoch, order fixed by (seed, epoch)', () => {
  const batches = makeBatches(examples, tok, { batchSize: 4, maxLength: 256, seed: 3, epoch: 0, template: 'qa' });
  assert.equal(batches.map((b) => b.shape[0]), [4, 4, 2]);
  const seen = batches.flatMap((b) => b.exampleIds.flat()).sort();
  assert.equal(seen, examples.map((e) => e.id).sort());
  for (const b of batches) {
    const [B, T] = b.shape;
    assert.is(b.inputIds.length, B * T);
    for (let r = 0; r < B; r++) {
      const e = encodeExample(b.exampleIds[r][0], ...qs(b.exampleIds[r][0]), tok, { maxLength: 256, template: 'qa' })!;
      const L = e.inputIds.length;
      assert.equal(Array.from(b.inputIds.subarray(r * T, r * T + L)), Array.from(e.inputIds));
      assert.equal(Array.from(b.labels.subarray(r * T, r * T + L)), Array.from(e.labels));
      for (let t = L; t < T; t++) {
        assert.is(b.inputIds[r * T + t], tok.padId);
        assert.is(b.labels[r * T + t], IGNORE_INDEX);
        assert.is(b.segmentIds[r * T + t], 0);
      }
    }
    assert.is(T, Math.max(...b.exampleIds.map((ids) => encodeExample(ids[0], ...qs(ids[0]), tok, { maxLength: 256, template: 'qa' })!.inputIds.length)));
  }
  const again = makeBatches(examples, tok, { batchSize: 4, maxLength: 256, seed: 3, epoch: 0, template: 'qa' });
  assert.equal(again.map((b) => Array.from(b.inputIds)), batches.map((b) => Array.from(b.inputIds)));
  const order = (seed: number, epoch: number) => makeBatches(examples, tok, { batchSize: 4, maxLength: 256, seed, epoch }).flatMap((b) => b.exampleIds.flat()).join();
  assert.is.not(order(3, 1), order(3, 0), 'a new epoch reshuffles');
  assert.is.not(order(4, 0), order(3, 0), 'a new seed reshuffles');
  assert.equal(epochOrder(5, 0, 0, false), [0, 1, 2, 3, 4]);
  const fixed = makeBatches(examples, tok, { batchSize: 4, maxLength: 64, seed: 3, padTo: 'maxLength', dropLast: true, template: 'qa' });
  assert.throws(() => makeBatches(examples, tok, { batchSize: 4, maxLength: 64, seed: 3 }), /none of the 10 examples fits maxLength=64 \(0 dropped, 10 with no room/);
  assert.equal(fixed.map((b) => b.shape), [[4, 64], [4, 64]]);
});

function qs(id: string): [string, string] {
  const e = examples.find((x) => x.id === id)!;
  return [e.question, e.solution!];
}

test('packing: whole examples back to back, rows within maxLength, segment ids mark them', () => {
  const { encoded } = encodeExamples(examples, tok, { maxLength: 64, template: 'qa' });
  const batches = batchEncoded(encoded, { batchSize: 2, seed: 1, pack: true, maxLength: 40, padId: tok.padId });
  const ids = batches.flatMap((b) => b.exampleIds.flat()).sort();
  assert.equal(ids, examples.map((e) => e.id).sort(), 'every example exactly once');
  for (const b of batches) {
    const [B, T] = b.shape;
    assert.is(T, 40);
    for (let r = 0; r < B; r++) {
      let t = r * T;
      b.exampleIds[r].forEach((id, k) => {
        const e = encoded.find((x) => x.id === id)!;
        assert.equal(Array.from(b.inputIds.subarray(t, t + e.inputIds.length)), Array.from(e.inputIds));
        assert.equal(Array.from(b.segmentIds.subarray(t, t + e.inputIds.length)), new Array(e.inputIds.length).fill(k + 1));
        assert.is(b.labels[t], IGNORE_INDEX, 'no loss across the boundary into the next example');
        t += e.inputIds.length;
      });
    }
  }
  assert.ok(batches.reduce((s, b) => s + b.shape[0], 0) < examples.length, 'packing uses fewer rows');
  assert.throws(() => packRows(encoded, 5), /over maxLength=5/);
  assert.throws(() => collate([[encoded[0]]], 0, 2), /shorter than the longest row/);
});

test('BatchSchedule: step s is a fixed batch, across epochs and after a resume', () => {
  const { encoded } = encodeExamples(examples, tok, { maxLength: 64, template: 'qa' });
  for (const pack of [false, true]) {
    const opts = { batchSize: 3, seed: 5, padId: 0, pack, maxLength: 40 };
    const s = new BatchSchedule(encoded, opts);
    const e0 = batchEncoded(encoded, { ...opts, epoch: 0 });
    const e1 = batchEncoded(encoded, { ...opts, epoch: 1 });
    const stream = [...e0, ...e1].map((b) => Array.from(b.inputIds).join());
    const got = stream.map((_, i) => Array.from(s.at(i).batch.inputIds).join());
    assert.equal(got, stream, `pack=${pack}: steps walk epoch 0 then epoch 1`);
    const fresh = new BatchSchedule(encoded, opts);
    assert.is(Array.from(fresh.at(e0.length + 1).batch.inputIds).join(), stream[e0.length + 1], `pack=${pack}: resume`);
    assert.is(fresh.at(e0.length).epoch, 1);
  }
  assert.throws(() => new BatchSchedule([], { batchSize: 1, seed: 0, padId: 0 }), /no examples/);
});

test('LM batches: seeded random windows of the stream, labels = inputs', () => {
  const stream = Int32Array.from({ length: 500 }, (_, i) => i % 97);
  const a = lmBatch(stream, 7, { batchSize: 4, seqLen: 16, seed: 1 });
  const b = lmBatch(stream, 7, { batchSize: 4, seqLen: 16, seed: 1 });
  const c = lmBatch(stream, 8, { batchSize: 4, seqLen: 16, seed: 1 });
  assert.equal(a.shape, [4, 16]);
  assert.equal(Array.from(a.inputIds), Array.from(b.inputIds));
  assert.is.not(Array.from(a.inputIds).join(), Array.from(c.inputIds).join());
  assert.equal(Array.from(a.labels), Array.from(a.inputIds));
  for (let r = 0; r < 4; r++) {
    const start = Number(a.exampleIds[r][0].slice(1));
    assert.equal(Array.from(a.inputIds.subarray(r * 16, r * 16 + 16)), Array.from(stream.subarray(start, start + 16)));
  }
  const w = lmWindows(stream, { batchSize: 8, seqLen: 16 });
  assert.is(w.reduce((s, x) => s + x.shape[0], 0), 31);
  assert.equal(Array.from(w[1].inputIds.subarray(0, 16)), Array.from(stream.subarray(128, 144)));
  const { train, val } = splitStream(stream, 0.1);
  assert.is(train.length + val.length, 500);
  assert.is(val.length, 50);
  assert.throws(() => lmBatch(stream.subarray(0, 5), 0, { batchSize: 1, seqLen: 16, seed: 0 }), /fewer than seqLen=16/);
});

test('LM batches with repeatShare: that share of rows is a window then the same window again; the rest are plain', () => {
  const stream = Int32Array.from({ length: 500 }, (_, i) => i % 97);
  const T = 15; // odd: the repeat is cut to fit
  const half = 8;
  const a = lmBatch(stream, 3, { batchSize: 8, seqLen: T, seed: 2, repeatShare: 0.25 });
  let repeated = 0;
  for (let r = 0; r < 8; r++) {
    const row = Array.from(a.inputIds.subarray(r * T, (r + 1) * T));
    const id = a.exampleIds[r][0];
    const start = Number(/^@(\d+)/.exec(id)![1]);
    if (id.endsWith('x2')) {
      repeated++;
      const w = Array.from(stream.subarray(start, start + half));
      assert.equal(row, [...w, ...w.slice(0, T - half)], `row ${r} repeats its window`);
    } else {
      assert.equal(row, Array.from(stream.subarray(start, start + T)), `row ${r} is a plain window`);
    }
  }
  assert.is(repeated, 2, 'round(8 * 0.25) rows repeat');
  assert.equal(Array.from(a.labels), Array.from(a.inputIds));
  const plain = lmBatch(stream, 3, { batchSize: 8, seqLen: T, seed: 2 });
  assert.is(plain.exampleIds.flat().filter((x) => x.endsWith('x2')).length, 0, 'no repeats by default');
  assert.throws(() => lmBatch(stream, 0, { batchSize: 2, seqLen: T, seed: 0, repeatShare: 1.5 }), /repeatShare must be in \[0, 1\], got 1.5/);
});

test.run();
