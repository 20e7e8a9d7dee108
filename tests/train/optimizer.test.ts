import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, setupBackend } from '../util';
import { AdamW } from '../../lib/train/optimizer';
import { lrAt, validateSchedule } from '../../lib/train/schedule';
import { Rng } from '../../lib/util/random';

test.before(async () => {
  await setupBackend();
});

/** torch.optim.AdamW's update, in float64, for one flat parameter. */
function adamwRef(p: number[], grads: number[][], lrs: number[], c: { beta1: number; beta2: number; eps: number; weightDecay: number }): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < x.length; i++) {
      x[i] *= 1 - lr * c.weightDecay;
      m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
      v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(c.beta2, t)) + c.eps;
      x[i] -= (lr / (1 - Math.pow(c.beta1, t))) * (m[i] / denom);
    }
  });
  return x;
}

test('AdamW matches the torch.optim.AdamW update rule (decay, bias correction, per-group lr scale)', async () => {
  await assertNoLeak('adamw', () => {
    const rng = new Rng(3);
    const cfg = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    const p0 = Array.from(rng.normalArray(6));
    const q0 = Array.from(rng.normalArray(4));
    const grads = [0, 1, 2, 3].map(() => Array.from(rng.normalArray(6)));
    const gradsQ = [0, 1, 2, 3].map(() => Array.from(rng.normalArray(4)));
    const lrs = [1e-2, 5e-3, 2e-2, 1e-3];
    const pv = tf.tidy(() => tf.variable(tf.tensor2d(p0, [2, 3])));
    const qv = tf.tidy(() => tf.variable(tf.tensor1d(q0)));
    const opt = new AdamW(
      [
        { name: 'a.lora_A', variable: pv, lrScale: 1, decay: true },
        { name: 'a.lora_B', variable: qv, lrScale: 16, decay: false },
      ],
      cfg,
    );
    grads.forEach((g, k) => {
      const gp = tf.tensor2d(g, [2, 3]);
      const gq = tf.tensor1d(gradsQ[k]);
      opt.step({ 'a.lora_A': gp, 'a.lora_B': gq }, lrs[k]);
      tf.dispose([gp, gq]);
    });
    assert.is(opt.stepCount, 4);
    assertClose(pv.dataSync(), adamwRef(p0, grads, lrs, cfg), 1e-6, 'decayed matrix');
    assertClose(qv.dataSync(), adamwRef(q0, gradsQ, lrs.map((l) => l * 16), { ...cfg, weightDecay: 0 }), 1e-6, 'lr-scaled vector, no decay');
    opt.dispose();
    tf.dispose([pv, qv]);
  });
});

test('AdamW state round-trips and rejects a mismatched state', async () => {
  await assertNoLeak('adamw state', () => {
    const a = tf.tidy(() => tf.variable(tf.ones([2, 2])));
    const opt = new AdamW([{ name: 'w', variable: a, lrScale: 1, decay: true }], { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    const g = tf.fill([2, 2], 0.5);
    opt.step({ w: g }, 0.1);
    const s = opt.getState();
    assert.is(s.t, 1);
    assertClose(s.m.get('w')!.data, [0.05, 0.05, 0.05, 0.05], 1e-7, 'first moment');
    const b = tf.tidy(() => tf.variable(tf.ones([2, 2])));
    const opt2 = new AdamW([{ name: 'w', variable: b, lrScale: 1, decay: true }], opt.cfg);
    opt2.setState(s);
    assert.is(opt2.stepCount, 1);
    assert.throws(() => opt2.setState({ ...s, m: new Map() }), /missing m for parameter 'w'/);
    assert.throws(() => opt2.setState({ ...s, v: new Map([['w', { shape: [4], data: new Float32Array(4) }]]) }), /v for 'w' has shape \[4\]/);
    assert.throws(() => new AdamW([{ name: 'w', variable: b, lrScale: 1, decay: true }], { ...opt.cfg, beta2: 1 }), /optimizer.beta2/);
    opt.dispose();
    opt2.dispose();
    tf.dispose([a, b, g]);
  });
});

test('schedules: warmup, constant, cosine and linear decay at known steps', () => {
  const s = (kind: 'constant' | 'cosine' | 'linear', warmupSteps = 0) => ({ kind, warmupSteps });
  assert.is(lrAt(1, s('constant'), 0, 10), 1);
  assert.is(lrAt(1, s('cosine'), 0, 10), 1, 'cosine starts at the base lr (no warmup, as in the paper)');
  assertClose([lrAt(1, s('cosine'), 5, 10)], [0.5], 1e-12, 'cosine half way');
  assertClose([lrAt(1, s('cosine'), 9, 10)], [0.5 * (1 + Math.cos(Math.PI * 0.9))], 1e-12, 'cosine last step');
  assertClose([lrAt(2, s('linear'), 5, 10)], [1], 1e-12, 'linear half way');
  assertClose([lrAt(1, s('cosine', 4), 0, 14)], [0.25], 1e-12, 'warmup step 0');
  assertClose([lrAt(1, s('cosine', 4), 3, 14)], [1], 1e-12, 'warmup last step reaches lr');
  assertClose([lrAt(1, s('cosine', 4), 9, 14)], [0.5], 1e-12, 'cosine after warmup');
  assert.throws(() => validateSchedule(s('cosine', 11), 10), /schedule.warmupSteps: 11 exceeds steps=10/);
  assert.throws(() => validateSchedule({ kind: 'step' as never, warmupSteps: 0 }, 10), /schedule.kind/);
});

test.run();
