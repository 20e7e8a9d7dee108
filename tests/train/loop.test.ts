import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, rejects, setupBackend } from '../util';
import { ToyLM, toyBatch } from './toy';
import { accumulateGrads, globalNorm, trainLoop, trainStep, type TrainLoopOptions } from '../../lib/train/loop';
import { AdamW } from '../../lib/train/optimizer';
import { collectTrainParams } from '../../lib/train/params';
import { hasCheckpoint, STATE_FILE } from '../../lib/train/checkpoint';
import type { Batch } from '../../lib/data/types';

test.before(async () => {
  await setupBackend();
});

const V = 13;
const OPT = { lr: 1e-2, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, loraPlusRatio: null, clipNorm: 1 };

function options(model: ToyLM, extra: Partial<TrainLoopOptions> = {}): TrainLoopOptions {
  return {
    model,
    params: collectTrainParams(model, { loraPlusRatio: null }),
    batchAt: (i) => toyBatch(100 + i, 4, 9, V),
    steps: 4,
    gradAccum: 1,
    optimizer: OPT,
    schedule: { kind: 'cosine', warmupSteps: 1 },
    ...extra,
  };
}

function weights(model: ToyLM): number[] {
  return [...model.parameters().values()].flatMap((v) => Array.from(v.dataSync()));
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-train-'));
}

test('training lowers the loss, names parameters, reports per-step metrics and does not leak', async () => {
  await assertNoLeak('train loop', async () => {
    const model = new ToyLM(V, 8, 1);
    const batch = toyBatch(7, 4, 9, V);
    const o = options(model, { batchAt: () => batch, steps: 30, optimizer: { ...OPT, lr: 3e-2 }, evalEvery: 10, evalBatches: [batch] });
    assert.equal(o.params.map((p) => p.name), ['model.embed.weight', 'model.proj.weight'], 'trainable base parameters by state-dict name (lm_head frozen)');
    const out = await trainLoop(o);
    assert.is(out.status, 'ok');
    assert.is(out.metrics.length, 30);
    assert.equal(out.metrics.map((m) => m.step), Array.from({ length: 30 }, (_, i) => i + 1));
    const first = out.metrics[0];
    const last = out.metrics[29];
    assert.ok(last.train_loss < first.train_loss - 0.5, `loss fell from ${first.train_loss} to ${last.train_loss}`);
    assert.ok(first.grad_norm > 0 && Number.isFinite(first.grad_norm), 'grad norm reported');
    assert.ok(first.tokens_per_s > 0, 'throughput reported');
    assert.equal(out.metrics.filter((m) => m.eval_loss !== undefined).map((m) => m.step), [10, 20, 30], 'eval every 10 steps');
    assert.ok(out.metrics[29].eval_loss! < out.metrics[9].eval_loss!, 'held-out loss falls on the memorised batch');
    assert.ok(out.stepMsMedian > 0);
    model.dispose();
  });
});

test('a run is deterministic, and 2 steps + checkpoint + resume 2 gives exactly the weights of 4 straight steps', async () => {
  await assertNoLeak('resume', async () => {
    const straight = new ToyLM(V, 8, 5);
    const a = await trainLoop(options(straight));
    const again = new ToyLM(V, 8, 5);
    await trainLoop(options(again));
    assert.equal(weights(again), weights(straight), 'same seed, same weights');

    const dir = tmpDir();
    const ck = { dir, every: 1, fingerprint: 'cfg-1', resume: true };
    const first = new ToyLM(V, 8, 5);
    const part = await trainLoop(options(first, { checkpoint: ck, stopAfter: 2 }));
    assert.is(part.stepsDone, 2);
    assert.ok(hasCheckpoint(dir));
    first.dispose();
    const resumed = new ToyLM(V, 8, 5); // fresh init, as a new process would have
    const b = await trainLoop(options(resumed, { checkpoint: ck }));
    assert.is(b.stepsDone, 4);
    assert.equal(weights(resumed), weights(straight), 'resumed weights are bit-identical');
    assert.equal(b.metrics.map((m) => m.train_loss), a.metrics.map((m) => m.train_loss), 'the whole loss curve is reported after resume');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8')).step, 4);

    const other = new ToyLM(V, 8, 5);
    await rejects(() => trainLoop(options(other, { checkpoint: { ...ck, fingerprint: 'cfg-2' } })), /different run configuration/);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const m of [straight, again, resumed, other]) m.dispose();
  });
});

test('an absurd learning rate diverges cleanly: status diverged with the step, no throw, no leak', async () => {
  await assertNoLeak('diverge', async () => {
    const model = new ToyLM(V, 8, 2);
    const out = await trainLoop(options(model, { steps: 50, optimizer: { ...OPT, lr: 1e35, clipNorm: null }, schedule: { kind: 'constant', warmupSteps: 0 } }));
    assert.is(out.status, 'diverged');
    assert.ok(out.divergedAtStep !== null && out.divergedAtStep >= 2 && out.divergedAtStep <= 50, `diverged at ${out.divergedAtStep}`);
    assert.is(out.metrics.length, out.divergedAtStep! - 1, 'metrics up to the last finite step');
    assert.ok(out.metrics.every((m) => Number.isFinite(m.train_loss)));
    model.dispose();
  });
});

test('a leaking model is caught by the step-to-step tensor count check', async () => {
  const model = new ToyLM(V, 8, 3);
  model.leakPerCall = 1;
  await rejects(() => trainLoop(options(model)), /step 2 changed the tensor count/);
  model.dispose();
});

test('gradient accumulation over 2 micro-batches equals one batch of both (equal token counts)', async () => {
  await assertNoLeak('accum', () => {
    const model = new ToyLM(V, 8, 4);
    const params = collectTrainParams(model, { loraPlusRatio: null });
    const b1 = toyBatch(1, 2, 7, V);
    const b2 = toyBatch(2, 2, 7, V);
    const both: Batch = {
      inputIds: Int32Array.from([...b1.inputIds, ...b2.inputIds]),
      labels: Int32Array.from([...b1.labels, ...b2.labels]),
      shape: [4, 7],
      exampleIds: [...b1.exampleIds, ...b2.exampleIds],
      segmentIds: Int32Array.from([...b1.segmentIds, ...b2.segmentIds]),
    };
    const acc = accumulateGrads(model, params, [b1, b2]);
    const one = accumulateGrads(model, params, [both]);
    assertClose(acc.loss.dataSync(), one.loss.dataSync(), 1e-5, 'loss');
    for (const p of params) assertClose(acc.grads[p.name].dataSync(), one.grads[p.name].dataSync(), 1e-5, `grad ${p.name}`);
    const n = globalNorm(Object.values(one.grads));
    const manual = Math.sqrt(Object.values(one.grads).reduce((s, g) => s + Array.from(g.dataSync()).reduce((a, x) => a + x * x, 0), 0));
    assertClose(n.dataSync(), [manual], 1e-5, 'global norm');
    tf.dispose([acc.loss, one.loss, n, ...Object.values(acc.grads), ...Object.values(one.grads)]);
    model.dispose();
  });
});

test('global-norm clipping: the update uses gradients scaled to the clip norm (visible in Adam\'s first moment)', async () => {
  await assertNoLeak('clip', () => {
    const model = new ToyLM(V, 8, 7);
    const params = collectTrainParams(model, { loraPlusRatio: null });
    const opt = new AdamW(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    const r = trainStep(model, params, opt, [toyBatch(3, 4, 9, V)], 1e-3, 0.05);
    assert.ok(r.finite && r.gradNorm > 0.05, `pre-clip norm reported (${r.gradNorm})`);
    const m = opt.getState().m;
    const norm = Math.sqrt([...m.values()].reduce((a, t) => a + t.data.reduce((b, x) => b + x * x, 0), 0)) / (1 - 0.9);
    assertClose([norm], [0.05], 1e-3, 'clipped gradient norm');
    opt.dispose();
    model.dispose();
  });
});

test('an optimiser step that throws leaves no gradient tensors behind, clipped or not', async () => {
  for (const clip of [0.05, null]) {
    await assertNoLeak(`throwing step, clipNorm ${clip}`, () => {
      const model = new ToyLM(V, 8, 7);
      const params = collectTrainParams(model, { loraPlusRatio: null });
      const opt = new AdamW(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
      opt.step = () => {
        throw new Error('optimiser failed');
      };
      try {
        assert.throws(() => trainStep(model, params, opt, [toyBatch(3, 4, 9, V)], 1e-3, clip), /optimiser failed/);
      } finally {
        opt.dispose();
        model.dispose();
      }
    });
  }
});

test('cancellation stops before the next step; bad options name the field', async () => {
  const model = new ToyLM(V, 8, 6);
  const ctl = new AbortController();
  const out = await trainLoop(options(model, { steps: 10, signal: ctl.signal, onStep: (m) => m.step === 3 && ctl.abort() }));
  assert.is(out.status, 'cancelled');
  assert.is(out.stepsDone, 3);
  await rejects(() => trainLoop(options(model, { gradAccum: 0 })), /gradAccum: expected an integer >= 1, got 0/);
  await rejects(() => trainLoop(options(model, { optimizer: { ...OPT, lr: -1 } })), /optimizer.lr/);
  await rejects(() => trainLoop(options(model, { evalEvery: 2 })), /eval.every: 2 needs held-out batches/);
  model.dispose();
});

test.run();
