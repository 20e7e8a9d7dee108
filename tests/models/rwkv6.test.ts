/** RWKV6 model: forward against a float64 RNN-form reference, both WKV forms, state, generate, loss, gradients, leaks. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak, tensorMaxDiff } from '../util';
import { Rwkv6Model, createRwkv6, disposeRwkv6State } from '../../lib/models/rwkv6';
import { rwkv6Preset, validateRwkv6Config } from '../../lib/models/rwkv6-config';
import { rwkv6Weights } from '../../lib/models/rwkv6-checkpoint';
import { Rng } from '../../lib/util/random';
import { collectTrainParams } from '../../lib/train/params';
import { randomWeights, refForward, tinyConfig } from './rwkv6-ref';

test.before(async () => {
  await setupBackend();
});

const cfg = tinyConfig();

function randomIds(seed: number, B: number, T: number, V = cfg.vocab_size): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
}

test('forward (chunked and scan) matches the float64 token-by-token reference', async () => {
  const weights = randomWeights(cfg, 7);
  const ids = randomIds(1, 2, 13);
  const want = ids.map((seq) => refForward(cfg, weights, seq));
  await assertNoLeak('forward', () => {
    for (const [wkv, chunkLen] of [['chunked', 4], ['chunked', 16], ['scan', 16]] as const) {
      const m = new Rwkv6Model(cfg, weights, { wkv, chunkLen });
      const x = tf.tensor2d(ids, [2, 13], 'int32');
      const lg = m.logits(x);
      assert.equal(lg.shape, [2, 13, cfg.vocab_size]);
      assertClose(lg.arraySync(), want, 2e-4, `${wkv} L=${chunkLen} logits`);
      tf.dispose([x, lg]);
      m.dispose();
    }
  });
});

test('dim_att different from n_embd (3 heads of 8 on a 16-wide model) matches the reference too', () => {
  const c = tinyConfig({ dim_att: 24 });
  const weights = randomWeights(c, 17);
  const ids = randomIds(2, 1, 9);
  const m = new Rwkv6Model(c, weights, { chunkLen: 4 });
  const x = tf.tensor2d(ids, [1, 9], 'int32');
  const lg = m.logits(x);
  assertClose(lg.arraySync(), [refForward(c, weights, ids[0])], 2e-4, 'logits');
  tf.dispose([x, lg]);
  m.dispose();
});

test('createRwkv6: one seed fixes the weights; init is sensible (decays spread, finite logits)', () => {
  const a = rwkv6Weights(createRwkv6(cfg, { seed: 3 }));
  const a2 = createRwkv6(cfg, { seed: 3 });
  const b = createRwkv6(cfg, { seed: 4 });
  const wa = a.get('blocks.0.att.key.weight')!.data;
  assert.equal(Array.from(wa), Array.from(rwkv6Weights(a2).get('blocks.0.att.key.weight')!.data), 'same seed, same weights');
  assert.not.equal(Array.from(wa), Array.from(rwkv6Weights(b).get('blocks.0.att.key.weight')!.data), 'other seed differs');
  // Decays run from fast (w = exp(-exp(-1)) ~ 0.69) to slow (exp(-exp(-6)) ~ 0.9975) across channels.
  const d = a.get('blocks.1.att.time_decay')!.data;
  assert.ok(Math.abs(d[0] + 6) < 1e-6 && Math.abs(d[d.length - 1] + 1) < 1e-6, `time_decay spans [-6, -1], got ${d[0]}..${d[d.length - 1]}`);
  for (let i = 1; i < d.length; i++) assert.ok(d[i] > d[i - 1], 'time_decay increases across channels');
  const x = tf.tensor2d(randomIds(2, 1, 8), [1, 8], 'int32');
  const lg = a2.logits(x);
  assert.ok(lg.dataSync().every(Number.isFinite), 'finite logits');
  tf.dispose([x, lg]);
  a2.dispose();
  b.dispose();
});

test('forward from a carried state equals the full-sequence forward', async () => {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, 8), { chunkLen: 4 });
  const ids = randomIds(3, 2, 11);
  await assertNoLeak('stateful forward', () => {
    const full = tf.tensor2d(ids, [2, 11], 'int32');
    const head = tf.tensor2d(ids.map((s) => s.slice(0, 6)), [2, 6], 'int32');
    const tail = tf.tensor2d(ids.map((s) => s.slice(6)), [2, 5], 'int32');
    const all = m.logits(full);
    const a = m.forward(head);
    const b = m.forward(tail, a.state);
    const want = tf.slice(all, [0, 6, 0], [2, 5, cfg.vocab_size]);
    const wantLast = tf.slice(all, [0, 10, 0], [2, 1, cfg.vocab_size]);
    assert.ok(tensorMaxDiff(b.logits, want) < 1e-4, `continued logits differ by ${tensorMaxDiff(b.logits, want)}`);
    const last = m.forward(full, null, { lastOnly: true });
    assert.ok(tensorMaxDiff(last.logits, wantLast) < 1e-5, 'lastOnly logits');
    disposeRwkv6State(a.state);
    disposeRwkv6State(b.state);
    disposeRwkv6State(last.state);
    tf.dispose([full, head, tail, all, a.logits, b.logits, want, wantLast, last.logits]);
  });
  m.dispose();
});

test('generate (recurrent state, one token per step) equals the argmax of the full forward', async () => {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, 9), { chunkLen: 4 });
  const prompt = randomIds(4, 1, 6)[0];
  const gen = await assertNoLeak('generate', () => m.generate(prompt, 10));
  assert.is(gen.length, 10);
  const seq = [...prompt, ...gen];
  const x = tf.tensor2d([seq.slice(0, -1)], [1, seq.length - 1], 'int32');
  const lg = m.logits(x);
  const am = tf.argMax(lg, 2);
  const greedy = Array.from(am.dataSync()).slice(prompt.length - 1);
  assert.equal(greedy, gen, 'each generated token is the argmax at its position');
  // eos stops generation and is included; maxNewTokens 0 returns nothing.
  const stop = await m.generate(prompt, 10, gen[2]);
  assert.equal(stop, gen.slice(0, gen.indexOf(gen[2]) + 1));
  assert.equal(await m.generate(prompt, 0), []);
  tf.dispose([x, lg, am]);
  m.dispose();
});

test('loss: mean next-token cross-entropy over labels != -100 (labels aligned to inputs, shifted inside)', async () => {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, 10));
  const ids = randomIds(5, 2, 7);
  const labels = ids.map((s) => s.slice());
  labels[0][3] = -100;
  labels[1][0] = (labels[1][0] + 5) % cfg.vocab_size; // position 0 is never a target: no effect
  labels[1][6] = -100;
  await assertNoLeak('loss', () => {
    const x = tf.tensor2d(ids, [2, 7], 'int32');
    const y = tf.tensor2d(labels, [2, 7], 'int32');
    const lgT = m.logits(x);
    const lg = lgT.arraySync() as number[][][];
    lgT.dispose();
    let sum = 0;
    let n = 0;
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 6; t++) {
        const lab = labels[b][t + 1];
        if (lab === -100) continue;
        const row = lg[b][t];
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
        sum += lse - row[lab];
        n++;
      }
    const loss = m.loss(x, y);
    assertClose([loss.dataSync()[0]], [sum / n], 1e-5, 'masked mean CE');
    const allMasked = tf.fill([2, 7], -100, 'int32') as tf.Tensor2D;
    const zero = m.loss(x, allMasked);
    assert.is(zero.dataSync()[0], 0, 'all labels masked gives 0');
    tf.dispose([x, y, loss, allMasked, zero]);
  });
  m.dispose();
});

test('full fine-tuning gradients: finite, and each parameter directional derivative matches a central difference', async () => {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, 11), { chunkLen: 4 });
  for (const v of m.parameters().values()) v.trainable = true;
  const vars = m.trainableVariables();
  const names = [...m.parameters().keys()];
  assert.is(vars.length, names.length, 'every parameter trains under full fine-tuning');
  const x = tf.tensor2d(randomIds(6, 2, 9), [2, 9], 'int32');
  await assertNoLeak('gradients', () => {
    const { value, grads } = tf.variableGrads(() => m.loss(x, x), vars);
    const rng = new Rng(12);
    vars.forEach((v, i) => {
      const g = grads[v.name];
      assert.ok(g.dataSync().every(Number.isFinite), `finite grad ${names[i]}`);
      // Unit-norm random direction d: <grad, d> vs (L(p + h d) - L(p - h d)) / 2h. h = 2e-3 keeps float32 rounding of
      // the loss (~1e-7 relative) small while staying inside the narrow curvature of ln_x at near-zero head outputs.
      const d = tf.tidy(() => {
        const r = tf.tensor(rng.normalArray(v.size), v.shape);
        return tf.div(r, tf.norm(r));
      });
      const analytic = tf.tidy(() => tf.sum(tf.mul(g, d)).dataSync()[0]);
      const orig = tf.clone(v);
      const at = (h: number) => {
        tf.tidy(() => v.assign(tf.add(orig, tf.mul(d, h))));
        return tf.tidy(() => m.loss(x, x).dataSync()[0]);
      };
      const h = 2e-3;
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(orig);
      assert.ok(Math.abs(numeric - analytic) <= 3e-4 + 1e-2 * Math.abs(analytic), `${names[i]}: analytic ${analytic} vs numeric ${numeric}`);
      tf.dispose([d, orig]);
    });
    tf.dispose([value, ...Object.values(grads)]);
  });
  // One Adam step on everything lowers the loss.
  const opt = tf.train.adam(1e-2);
  const before = tf.tidy(() => m.loss(x, x).dataSync()[0]);
  for (let i = 0; i < 3; i++) opt.minimize(() => m.loss(x, x), true, vars)?.dispose();
  const after = tf.tidy(() => m.loss(x, x).dataSync()[0]);
  assert.ok(after < before, `loss after 3 steps ${after} < before ${before}`);
  opt.dispose();
  x.dispose();
  m.dispose();
});

test('optimiser groups under full fine-tuning: weight decay on projections, embedding and head, never on time_* or norms', () => {
  const m = createRwkv6(cfg, { seed: 1 });
  for (const v of m.parameters().values()) v.trainable = true;
  const decay = new Map(collectTrainParams(m, { loraPlusRatio: null }).map((p) => [p.name, p.decay]));
  assert.is(decay.size, m.parameters().size);
  for (const [name, d] of decay) {
    const want = /\.weight$/.test(name) && !/\.ln\w*\.|^ln_out\./.test(name);
    assert.is(d, want, `${name}: decay ${d}`);
  }
  assert.is(decay.get('blocks.0.att.time_maa_w1'), false, 'ddlerp LoRA factor is not decayed (official RWKV-LM groups)');
  assert.is(decay.get('blocks.1.ffn.key.weight'), true);
  m.dispose();
});

test('bad input errors name the problem', async () => {
  const m = createRwkv6(cfg, { seed: 1 });
  const out = tf.tensor2d([[1, 23]], [1, 2], 'int32');
  assert.throws(() => m.logits(out), /rwkv6 forward input_ids: id 23 at position 1 is out of range \[0, 23\)/);
  const f = tf.tensor2d([[1, 2]], [1, 2], 'float32');
  assert.throws(() => m.logits(f), /input_ids must be int32, got float32/);
  const ok = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  assert.throws(() => m.loss(ok, out), /labels shape \[1,2\] must equal input_ids shape \[1,3\]/);
  const badLabels = tf.tensor2d([[1, 2, 40]], [1, 3], 'int32');
  assert.throws(() => m.loss(ok, badLabels), /rwkv6 loss labels: id 40 at position 2 is out of range \[0, 23\)/);
  badLabels.dispose();
  assert.throws(() => validateRwkv6Config({ ...cfg, head_size: 5 }), /dim_att=16 must be a multiple of head_size=5/);
  assert.throws(() => validateRwkv6Config({ ...cfg, n_layer: 0 }), /n_layer must be a positive integer, got 0/);
  assert.throws(() => rwkv6Preset('huge', 10), /unknown preset 'huge'/);
  assert.throws(() => createRwkv6(cfg, { seed: 1, wkv: 'fast' as 'scan' }), /wkv must be 'chunked' or 'scan', got "fast"/);
  const partial = randomWeights(cfg, 1);
  partial.delete('blocks.1.att.time_faaaa');
  const before = tf.memory().numTensors;
  assert.throws(() => new Rwkv6Model(cfg, partial), /missing tensor blocks\.1\.att\.time_faaaa/);
  assert.is(tf.memory().numTensors, before, 'a failed construction allocates nothing');
  let thrown = '';
  await m.generate([], 3).catch((e: Error) => (thrown = e.message));
  assert.match(thrown, /prompt must contain at least one token/);
  await m.generate([1, 99], 3).catch((e: Error) => (thrown = e.message));
  assert.match(thrown, /rwkv6 generate prompt: id 99 at position 1 is out of range/);
  tf.dispose([out, f, ok]);
  m.dispose();
});

test('dispose releases every tensor the model created', () => {
  const before = tf.memory().numTensors;
  const m = createRwkv6(rwkv6Preset('tiny', 40), { seed: 2 });
  assert.ok(tf.memory().numTensors > before);
  m.dispose();
  assert.is(tf.memory().numTensors, before);
});

test.run();
