import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCharTokenizer, CHAR_SPECIAL_TOKENS, frequentWords } from '../../lib/tokenizer/char';
import { loadTokenizer, saveTokenizer, tokenizerFromJson } from '../../lib/tokenizer/tokenizer';
import { Rng } from '../../lib/util/random';
import { SHARED } from '../util';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-tok-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const corpus = fs.readFileSync(path.join(SHARED, 'datasets', 'tinyshakespeare', 'input.txt'), 'utf8').slice(0, 50000) + ' café';

test('char tokenizer: special ids, code-point order, saved as HF files and loaded back through the HF path', () => {
  const tok = buildCharTokenizer(corpus);
  assert.equal([tok.unkId, tok.bosId, tok.eosId, tok.padId], [0, 1, 2, 3]);
  saveTokenizer(tok, tmp);
  const json = JSON.parse(fs.readFileSync(path.join(tmp, 'tokenizer.json'), 'utf8'));
  assert.is(json.model.type, 'BPE');
  assert.equal(json.model.merges, []);
  assert.equal(json.added_tokens.map((t: { content: string }) => t.content), [...CHAR_SPECIAL_TOKENS]);
  const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'tokenizer_config.json'), 'utf8'));
  assert.equal([cfg.bos_token, cfg.eos_token, cfg.pad_token, cfg.unk_token], ['<s>', '</s>', '<pad>', '<unk>']);
  const back = loadTokenizer(tmp);
  assert.is(back.vocabSize, tok.vocabSize);
  // ids after the specials follow code-point order: '\t' (9) first, then '\n', '\r', ' ', '!' ...
  assert.equal(back.encode('\t\n !'), [4, 5, 7, 8]);
  assert.equal(back.encode('é'), [tok.vocabSize - 1], 'a non-ASCII corpus character gets its own id');
});

test('char tokenizer: arbitrary ASCII round-trips exactly; unknown characters map to <unk>', () => {
  const tok = loadTokenizer(tmp);
  const rng = new Rng(5);
  for (let k = 0; k < 20; k++) {
    const n = 1 + rng.int(200);
    const chars = Array.from({ length: n }, () => {
      const c = rng.int(98);
      return c === 95 ? '\n' : c === 96 ? '\t' : c === 97 ? '\r' : String.fromCharCode(32 + c);
    });
    const s = chars.join('');
    const ids = tok.encode(s);
    assert.is(ids.length, n, 'one id per character');
    assert.is(tok.decode(ids), s);
  }
  assert.equal(tok.encode('a\u{1F600}b中'), [tok.encode('a')[0], 0, tok.encode('b')[0], 0]);
  assert.is(tok.decode(tok.encode('x\u{1F600}')), 'x<unk>');
  assert.is(tok.decode([]), '');
  assert.is(tok.decode([1, ...tok.encode('hi'), 2], { skipSpecialTokens: true }), 'hi');
  assert.equal(tok.encode('hi', { addSpecialTokens: true }), tok.encode('hi'), 'no post-processor: nothing added');
  assert.throws(() => tok.decode([1, tok.vocabSize]), new RegExp(`id ${tok.vocabSize} at position 1 is out of range`));
});

test('char tokenizer with numbers: 0..999 are one token each, longer numbers a few, text round-trips through the saved files', () => {
  const dir = path.join(tmp, 'numbers');
  saveTokenizer(buildCharTokenizer(corpus, { numbers: true }), dir);
  const tok = loadTokenizer(dir);
  const plain = buildCharTokenizer(corpus);
  assert.is(tok.vocabSize, plain.vocabSize + 1100, '100 two-digit and 1000 three-digit strings');
  for (let n = 0; n < 1000; n++) {
    const ids = tok.encode(`x${n}y`);
    assert.is(ids.length, 3, `'${n}' should be one token`);
    assert.is(tok.decode([ids[1]]), String(n));
  }
  assert.equal(tok.encode('007').length, 1, 'leading zeros kept in the token');
  const rng = new Rng(8);
  for (let k = 0; k < 50; k++) {
    const digits = 4 + rng.int(9);
    const s = `$${Array.from({ length: digits }, () => rng.int(10)).join('')}.5 and ${rng.int(1000)}`;
    const ids = tok.encode(s);
    assert.is(tok.decode(ids), s, 'round trip');
    assert.ok(ids.length < s.length, 'digit runs are merged');
    for (const id of ids) assert.ok(tok.decode([id]).length <= 3, 'no token longer than three digits');
  }
  // away from digits the ids are the char tokenizer's
  assert.equal(tok.encode('The answer is: '), plain.encode('The answer is: '));
});

test('word tokenizer: listed words and 1-3 digit strings are one token, other letter runs fall back to characters', () => {
  const text = 'Wes has 15 limes. Val has 10 fewer limes than Wes. Val has 5 limes.';
  const words = frequentWords(text, 2);
  assert.equal(words, ['has', 'limes', 'Val', 'Wes'], 'count >= 2, most frequent first, ties in code-point order');
  const dir = path.join(tmp, 'words');
  saveTokenizer(buildCharTokenizer(text, { words }), dir);
  const tok = loadTokenizer(dir);
  const pieces = (s: string) => tok.encode(s).map((id) => tok.decode([id]));
  assert.equal(pieces('Wes has 15 limes.'), ['Wes', ' ', 'has', ' ', '15', ' ', 'limes', '.']);
  assert.equal(pieces('Wesley has'), ['W', 'e', 's', 'l', 'e', 'y', ' ', 'has'], 'a longer run is not split into known words');
  assert.equal(pieces('1500'), ['150', '0'], 'digit runs in pieces of at most three, left to right');
  const rng = new Rng(3);
  for (let k = 0; k < 30; k++) {
    const s = Array.from({ length: 1 + rng.int(80) }, () => String.fromCharCode(32 + rng.int(95))).join('') + '\n';
    assert.is(tok.decode(tok.encode(s)), s, 'any ASCII text round-trips');
  }
  assert.throws(() => buildCharTokenizer(text, { words: ['ok', 'not ok'] }), /word 'not ok' is not a run of ASCII letters/);
});

test('word tokenizer: words named like Object.prototype members get their own token', () => {
  const words = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
  const tok = buildCharTokenizer('x', { words });
  const plain = buildCharTokenizer('x', { words: [] });
  assert.is(tok.vocabSize, plain.vocabSize + words.length, 'one new id per word');
  const seen = new Set<number>();
  for (const w of words) {
    const ids = tok.encode(w);
    assert.is(ids.length, 1, `'${w}' is one token`);
    assert.is(tok.decode(ids), w);
    assert.ok(ids[0] >= plain.vocabSize && !seen.has(ids[0]), `'${w}' has an id of its own (${ids[0]})`);
    seen.add(ids[0]);
  }
  assert.equal(tok.encode('a constructor.').map((id) => tok.decode([id])), ['a', ' ', 'constructor', '.']);
});

test('an HF-style tokenizer with a BOS template, AddedToken objects and no pad token', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, a: 3, b: 4, ab: 5 };
  const tj = {
    version: '1.0',
    added_tokens: [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id], special: true, normalized: false, lstrip: false, rstrip: false, single_word: false })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'Fuse' },
    model: { type: 'BPE', unk_token: '<unk>', vocab, merges: ['a b'] },
  };
  const cfg = { bos_token: { __type: 'AddedToken', content: '<s>' }, eos_token: '</s>', clean_up_tokenization_spaces: false };
  const tok = tokenizerFromJson(tj, cfg, 'test tokenizer');
  assert.equal(tok.encode('abba'), [5, 4, 3]);
  assert.equal(tok.encode('abba', { addSpecialTokens: true }), [1, 5, 4, 3]);
  assert.equal([tok.bosId, tok.eosId, tok.padId, tok.unkId], [1, 2, 2, 0], 'pad falls back to eos');
  assert.throws(() => tokenizerFromJson(tj, { eos_token: '<eos>' }, 'cfgtest'), /cfgtest: tokenizer_config.json eos_token '<eos>' is not in the vocabulary/);
  assert.throws(() => tokenizerFromJson(tj, {}, 'cfgtest'), /has no eos_token/);
  assert.throws(() => loadTokenizer(path.join(tmp, 'nowhere')), /no tokenizer.json/);
});

test.run();
