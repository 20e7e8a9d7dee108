import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak, TINY_LLAMA_DIR } from '../util';
import { loadModel, createModel } from '../../lib/models/load';
import { createLlama, llamaParamSpecs } from '../../lib/models/llama';
import { parseLlamaConfig } from '../../lib/models/llama-config';
import { ropeInvFreq } from '../../lib/models/rope';
import { saveModel } from '../../lib/models/hf-checkpoint';
import { run as forwardCli } from '../../lib/cli/forward';
import { encodeAs, randomLlamaWeights, refInvFreq, refLlamaLogits, writeCheckpoint, type Weights } from './llama-ref';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-llama-'));
test.before(async () => {
  await setupBackend();
});
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const BASE = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 37,
  hidden_size: 24,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 64,
  hidden_act: 'silu',
};
const IDS = [1, 5, 36, 0, 17, 17, 9, 30];

async function logitsOf(model: { logits(x: tf.Tensor2D): tf.Tensor3D }, ids: number[][]): Promise<number[][][]> {
  const x = tf.tensor2d(ids, [ids.length, ids[0].length], 'int32');
  const y = model.logits(x);
  const out = (await y.array()) as number[][][];
  tf.dispose([x, y]);
  return out;
}

test('shared HF reference checkpoint (GQA): logits match float64 HF within 1e-3 x max|logit|', async () => {
  const dir = TINY_LLAMA_DIR;
  const exp = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const model = loadModel(dir);
  const got = (await logitsOf(model, [exp.input_ids]))[0];
  assertClose(got, exp.logits, 1e-3, 'tiny-llama-gqa logits');
  // the HF reference's own float64 forward agrees with this file's independent reference forward too
  const w: Weights = new Map([...model.parameters()].map(([n, v]) => [n, { shape: v.shape, data: v.dataSync() as Float32Array }]));
  assertClose(refLlamaLogits(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), w, exp.input_ids), exp.logits, 1e-6, 'reference forward');
  model.dispose();
});

test('forward CLI writes {logits} for the shared checkpoint and rejects out-of-vocab ids', async () => {
  const dir = TINY_LLAMA_DIR;
  const exp = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const out = path.join(tmp, 'logits.json');
  const code = await forwardCli(['--model', dir, '--input-ids', exp.input_ids.join(','), '--out', out]);
  assert.is(code, 0);
  const got = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.is(got.logits.length, exp.input_ids.length);
  assertClose(got.logits, exp.logits, 1e-3, 'cli logits');
  const failure = (argv: string[]) => forwardCli(argv).then(() => '', (e: Error) => e.message);
  assert.match(await failure(['--model', dir, '--input-ids', '1,2,97']), /input id 97 at position 2 is out of range .*vocab_size 97/);
  assert.match(await failure(['--model', dir, '--input-ids', '1,-2']), /entry 1 \('-2'\) is not a non-negative integer/);
});

const CASES: { name: string; cfg: Record<string, unknown>; dtype: 'F32' | 'BF16' | 'F16' }[] = [
  { name: 'GQA 4q/2kv', cfg: {}, dtype: 'F32' },
  { name: 'explicit head_dim 10 != 24/4', cfg: { head_dim: 10 }, dtype: 'BF16' },
  { name: 'plain multi-head, tied embeddings', cfg: { num_key_value_heads: 4, tie_word_embeddings: true }, dtype: 'F16' },
  { name: 'multi-query (1 kv head)', cfg: { num_key_value_heads: 1 }, dtype: 'F32' },
  { name: 'attention_bias + mlp_bias', cfg: { attention_bias: true, mlp_bias: true }, dtype: 'BF16' },
  { name: 'qwen2 (q/k/v biases)', cfg: { model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], tie_word_embeddings: true }, dtype: 'F32' },
  { name: 'mistral sliding_window 3', cfg: { model_type: 'mistral', architectures: ['MistralForCausalLM'], sliding_window: 3 }, dtype: 'F32' },
  { name: 'rope_scaling linear x2', cfg: { rope_scaling: { type: 'linear', factor: 2 } }, dtype: 'F32' },
  {
    name: 'rope_scaling llama3 (all three bands)',
    cfg: { rope_theta: 100, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 } },
    dtype: 'F32',
  },
];

for (const c of CASES) {
  test(`checkpoint ${c.dtype}, ${c.name}: logits equal an independent float64 forward`, async () => {
    const cfg = { ...BASE, ...c.cfg };
    const dir = path.join(tmp, c.name.replace(/\W+/g, '_'));
    const stored = writeCheckpoint(dir, cfg, randomLlamaWeights(cfg, 7), c.dtype);
    const model = loadModel(dir);
    const got = await logitsOf(model, [IDS, IDS.slice().reverse()]);
    assertClose(got[0], refLlamaLogits(cfg, stored, IDS), 1e-4, `${c.name} row 0`);
    assertClose(got[1], refLlamaLogits(cfg, stored, IDS.slice().reverse()), 1e-4, `${c.name} row 1`);
    model.dispose();
  });
}

test('llama3 and linear inverse frequencies equal the reference formulas', () => {
  const s3 = { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 };
  const ref3 = refInvFreq(6, 100, { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 });
  assertClose(Array.from(ropeInvFreq(6, 100, s3)), ref3, 1e-6, 'llama3 inv_freq');
  // the three bands really differ: kept, blended, divided by the factor
  const plain = refInvFreq(6, 100, null);
  assert.ok(Math.abs(ref3[0] - plain[0]) < 1e-12 && ref3[2] === plain[2] / 8 && ref3[1] < plain[1] && ref3[1] > plain[1] / 8);
  assertClose(Array.from(ropeInvFreq(8, 10000, { type: 'linear', factor: 4 })), refInvFreq(8, 10000, { type: 'linear', factor: 4 }), 1e-6, 'linear');
});

test('saveModel then loadModel reproduces the logits exactly; tied models store no lm_head.weight', async () => {
  for (const tie of [false, true]) {
    const m = createLlama({ ...BASE, tie_word_embeddings: tie, initializer_range: 0.2 }, { seed: 3 });
    const dir = path.join(tmp, `saved-${tie}`);
    await saveModel(m, dir);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    for (const k of ['architectures', 'model_type', 'hidden_act', 'rms_norm_eps', 'rope_theta', 'num_key_value_heads', 'tie_word_embeddings', 'torch_dtype'])
      assert.ok(k in cfg, `config.json has ${k}`);
    const back = loadModel(dir);
    const names = [...back.parameters().keys()];
    assert.is(names.includes('lm_head.weight'), !tie);
    assert.equal(await logitsOf(back, [IDS]), await logitsOf(m, [IDS]));
    m.dispose();
    back.dispose();
  }
});

test('sharded checkpoint (model.safetensors.index.json) loads like the single file', async () => {
  const cfg = { ...BASE };
  const w = randomLlamaWeights(cfg, 11);
  const dir = path.join(tmp, 'sharded');
  fs.mkdirSync(dir, { recursive: true });
  const names = [...w.keys()];
  const halves = [names.slice(0, 7), names.slice(7)];
  const weightMap: Record<string, string> = {};
  halves.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    fs.writeFileSync(path.join(dir, file), encodeAs(new Map(part.map((n) => [n, w.get(n)!])), 'F32').bytes);
    for (const n of part) weightMap[n] = file;
  });
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  const model = loadModel(dir);
  assertClose((await logitsOf(model, [IDS]))[0], refLlamaLogits(cfg, w, IDS), 1e-4, 'sharded');
  model.dispose();
  // a shard that goes missing is named
  fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
  assert.throws(() => loadModel(dir), /shard 'model-00002-of-00002.safetensors' listed in weight_map is missing/);
});

test('checkpoint errors name the tensor, both shapes, and every problem at once', () => {
  const cfg = { ...BASE };
  const w = randomLlamaWeights(cfg, 1);
  w.delete('model.layers.1.mlp.up_proj.weight');
  w.set('model.layers.0.self_attn.k_proj.weight', { shape: [24, 24], data: new Float32Array(24 * 24) });
  const dir = path.join(tmp, 'broken');
  writeCheckpoint(dir, cfg, w, 'F32');
  const err = (() => {
    try {
      loadModel(dir);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  })();
  assert.match(err, /missing tensor 'model.layers.1.mlp.up_proj.weight' \(expected shape \[40,24\]\)/);
  assert.match(err, /tensor 'model.layers.0.self_attn.k_proj.weight' has shape \[24,24\] but the config implies \[12,24\]/);
  fs.rmSync(path.join(dir, 'model.safetensors'));
  assert.throws(() => loadModel(dir), /no model.safetensors or model.safetensors.index.json/);
});

test('unsupported architectures and options are rejected with the field and value', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ model_type: 'gpt2' }, /model_type "gpt2" is not a supported LLaMA-family architecture/],
    [{ architectures: ['LlamaForSequenceClassification'] }, /architectures \["LlamaForSequenceClassification"\] is not supported/],
    [{ hidden_act: 'gelu' }, /hidden_act 'gelu' is not supported/],
    [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type 'yarn' is not implemented/],
    [{ num_key_value_heads: 3 }, /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/],
    [{ hidden_size: 26 }, /hidden_size \(26\) is not divisible by num_attention_heads \(4\)/],
    [{ model_type: 'qwen2', architectures: null, use_sliding_window: true }, /qwen2 use_sliding_window=true is not supported/],
    [{ vocab_size: 0 }, /'vocab_size' must be a positive integer, got 0/],
  ];
  for (const [patch, re] of bad) assert.throws(() => parseLlamaConfig({ ...BASE, ...patch }), re);
  assert.throws(() => createModel({ ...BASE, model_type: 'bert' }), /model_type "bert" is not a LLaMA-family type/);
  // transformers v5 keeps rope_theta inside rope_parameters
  const v5 = { ...BASE, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 500 } };
  assert.is(parseLlamaConfig(v5).ropeTheta, 500);
  // MistralConfig's default window applies when the key is absent; an explicit null disables it
  const mistral = { ...BASE, model_type: 'mistral', architectures: ['MistralForCausalLM'] };
  assert.is(parseLlamaConfig(mistral).slidingWindow, 4096);
  assert.is(parseLlamaConfig({ ...mistral, sliding_window: null }).slidingWindow, null);
});

test('bad inputs: out-of-vocab ids, float ids, mismatched labels', () => {
  const m = createLlama(BASE, { seed: 1 });
  const over = tf.tensor2d([[1, 37]], [1, 2], 'int32');
  assert.throws(() => m.logits(over), /id 37 at position 1 is out of range \[0, 37\)/);
  const fl = tf.tensor2d([[1, 2]], [1, 2], 'float32');
  assert.throws(() => m.logits(fl), /input_ids must be int32, got float32/);
  const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  const lab = tf.tensor2d([[1, 2]], [1, 2], 'int32');
  assert.throws(() => m.loss(ids, lab), /labels shape \[1,2\] must equal input_ids shape \[1,3\]/);
  const lab2 = tf.tensor2d([[-100, 2, 40]], [1, 3], 'int32');
  assert.throws(() => m.loss(ids, lab2), /labels: id 40 at position 2 is out of range/);
  tf.dispose([over, fl, ids, lab, lab2]);
  m.dispose();
});

test('createLlama: HF-style init (N(0, initializer_range), norms 1, pad row 0), deterministic per seed', async () => {
  const cfg = { ...BASE, vocab_size: 200, hidden_size: 64, intermediate_size: 128, num_key_value_heads: 4, pad_token_id: 3, initializer_range: 0.05 };
  const a = createLlama(cfg, { seed: 5 });
  const b = createLlama(cfg, { seed: 5 });
  const c = createLlama(cfg, { seed: 6 });
  const pa = a.parameters();
  assert.equal([...pa.keys()], llamaParamSpecs(a.cfg).map((s) => s.name));
  for (const [n, v] of pa) assert.equal(Array.from(v.dataSync()), Array.from(b.parameters().get(n)!.dataSync()), `${n} same seed`);
  const q = Array.from(pa.get('model.layers.0.self_attn.q_proj.weight')!.dataSync());
  assert.not.equal(q, Array.from(c.parameters().get('model.layers.0.self_attn.q_proj.weight')!.dataSync()));
  const std = Math.sqrt(q.reduce((s, x) => s + x * x, 0) / q.length);
  assert.ok(Math.abs(std - 0.05) < 0.005, `q_proj std ${std}`);
  assert.ok(pa.get('model.norm.weight')!.dataSync().every((x) => x === 1));
  const emb = pa.get('model.embed_tokens.weight')!.dataSync();
  assert.ok(emb.slice(3 * 64, 4 * 64).every((x) => x === 0), 'pad row zero');
  assert.ok(emb.slice(2 * 64, 3 * 64).some((x) => x !== 0));
  assert.is(a.trainableVariables().length, 0, 'a fresh model is frozen');
  [a, b, c].forEach((m) => m.dispose());
});

test('loss: HF shift, -100 ignored, mean over the rest; equals a float64 cross-entropy of the logits', async () => {
  const m = createLlama({ ...BASE, initializer_range: 0.3 }, { seed: 2 });
  const ids = [IDS, IDS.map((x) => (x * 7) % 37)];
  const labels = [IDS.map((x, i) => (i < 3 ? -100 : x)), ids[1].map((x, i) => (i === 5 ? -100 : x))];
  const lg = await logitsOf(m, ids);
  let sum = 0;
  let n = 0;
  for (let b = 0; b < 2; b++)
    for (let t = 0; t + 1 < IDS.length; t++) {
      const y = labels[b][t + 1];
      if (y === -100) continue;
      const row = lg[b][t];
      const mx = Math.max(...row);
      sum += Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0)) + mx - row[y];
      n++;
    }
  const x = tf.tensor2d(ids, [2, IDS.length], 'int32');
  const y = tf.tensor2d(labels, [2, IDS.length], 'int32');
  const loss = m.loss(x, y);
  assertClose([loss.dataSync()[0]], [sum / n], 1e-5, 'loss');
  // all labels ignored: 0, not NaN
  const none = tf.fill([2, IDS.length], -100, 'int32') as tf.Tensor2D;
  const l0 = m.loss(x, none);
  assert.is(l0.dataSync()[0], 0);
  tf.dispose([x, y, loss, none, l0]);
  m.dispose();
});

test('full fine-tuning gradient of the loss matches finite differences (embedding, norm, lm_head)', async () => {
  const m = createLlama({ ...BASE, num_hidden_layers: 1, initializer_range: 0.3 }, { seed: 4 });
  const p = m.parameters();
  for (const v of p.values()) v.trainable = true;
  const x = tf.tensor2d([IDS.slice(0, 5)], [1, 5], 'int32');
  const y = tf.tensor2d([IDS.slice(0, 5)], [1, 5], 'int32');
  const picks: [string, number][] = [
    ['model.embed_tokens.weight', IDS[1] * 24 + 3], // a row that is looked up
    ['model.layers.0.input_layernorm.weight', 5],
    ['model.layers.0.self_attn.k_proj.weight', 17],
    ['lm_head.weight', IDS[2] * 24 + 1],
  ];
  const { grads } = tf.variableGrads(() => m.loss(x, y), picks.map(([n]) => p.get(n)!));
  for (const [name, idx] of picks) {
    const v = p.get(name)!;
    const g = grads[v.name].dataSync()[idx];
    const base = v.dataSync().slice();
    const eps = 1e-2;
    const at = (delta: number) => {
      const d = base.slice();
      d[idx] += delta;
      v.assign(tf.tensor(d, v.shape));
      const l = m.loss(x, y);
      const r = l.dataSync()[0];
      l.dispose();
      return r;
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    v.assign(tf.tensor(base, v.shape));
    assert.ok(Math.abs(fd - g) < 2e-3 + 0.02 * Math.abs(fd), `${name}[${idx}]: grad ${g} vs finite difference ${fd}`);
  }
  tf.dispose([x, y, ...Object.values(grads)]);
  m.dispose();
});

test('generate with the KV cache equals greedy decoding by recomputing full logits; stops at eos; no leaks', async () => {
  for (const extra of [{}, { model_type: 'mistral', architectures: ['MistralForCausalLM'], sliding_window: 4 }]) {
    const m = createLlama({ ...BASE, ...extra, initializer_range: 0.4 }, { seed: 9 });
    const prompt = [1, 7, 3];
    const gen = await m.generate(prompt, 10);
    assert.is(gen.length, 10);
    // reference: full forward over prompt + generated prefix, argmax of the last row each step
    const seq = prompt.slice();
    for (let s = 0; s < 10; s++) {
      const lg = (await logitsOf(m, [seq]))[0];
      const last = lg[lg.length - 1];
      const next = last.indexOf(Math.max(...last));
      const sorted = last.slice().sort((a, b) => b - a);
      assert.ok(sorted[0] - sorted[1] > 1e-4, 'a clear argmax (test is meaningful)');
      assert.is(gen[s], next, `step ${s} (${JSON.stringify(extra)})`);
      seq.push(next);
    }
    const cut = await assertNoLeak('generate', () => m.generate(prompt, 10, gen[4])); // caches are warm by now
    assert.equal(cut, gen.slice(0, gen.indexOf(gen[4]) + 1), 'stops at (and includes) eos');
    assert.equal(await m.generate(prompt, 0), []);
    m.dispose();
  }
});

test('forward, loss and gradient leak no tensors; logits of a batch equal per-row logits', async () => {
  const m = createLlama({ ...BASE, initializer_range: 0.3 }, { seed: 8 });
  await logitsOf(m, [IDS]); // warm the rope and mask caches (kept until dispose)
  await logitsOf(m, [IDS.slice(0, 3)]);
  await assertNoLeak('llama forward/loss/grad', async () => {
    for (const v of m.parameters().values()) v.trainable = true;
    const x = tf.tensor2d([IDS, IDS], [2, IDS.length], 'int32');
    const { value, grads } = tf.variableGrads(() => m.loss(x, x));
    await value.data();
    tf.dispose([x, value, ...Object.values(grads)]);
    await m.generate([1, 2, 3], 4);
    for (const v of m.parameters().values()) v.trainable = false;
  });
  const both = await logitsOf(m, [IDS, IDS.slice().reverse()]);
  assertClose(both[1], (await logitsOf(m, [IDS.slice().reverse()]))[0], 1e-5, 'batch row 1');
  const before = tf.memory().numTensors;
  m.dispose();
  assert.ok(tf.memory().numTensors < before - 20, 'dispose frees the weights');
});

test.run();
