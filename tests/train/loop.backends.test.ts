import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertNoLeak, setupBackend } from '../util';
import { ToyLM, toyBatch } from './toy';
import { trainLoop, type TrainLoopOptions } from '../../lib/train/loop';
import { collectTrainParams } from '../../lib/train/params';

test.before(async () => {
  await setupBackend();
});

test(`trainer on this backend: loss falls, resume is exact, nothing leaks`, async () => {
  await assertNoLeak(`trainer on ${tf.getBackend()}`, async () => {
    const opts = (model: ToyLM, extra: Partial<TrainLoopOptions> = {}): TrainLoopOptions => ({
      model,
      params: collectTrainParams(model, { loraPlusRatio: null }),
      batchAt: (i) => toyBatch(i % 2, 2, 6, 7),
      steps: 6,
      gradAccum: 2,
      optimizer: { lr: 3e-2, weightDecay: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, loraPlusRatio: null, clipNorm: 0.5 },
      schedule: { kind: 'linear', warmupSteps: 1 },
      ...extra,
    });
    const a = new ToyLM(7, 4, 1);
    const full = await trainLoop(opts(a));
    assert.ok(full.metrics[5].train_loss < full.metrics[0].train_loss, 'loss falls');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-ckpt-'));
    const b = new ToyLM(7, 4, 1);
    await trainLoop(opts(b, { checkpoint: { dir, every: 3, fingerprint: 'x', resume: true }, stopAfter: 3 }));
    const c = new ToyLM(7, 4, 1);
    await trainLoop(opts(c, { checkpoint: { dir, every: 3, fingerprint: 'x', resume: true } }));
    const w = (m: ToyLM) => [...m.parameters().values()].flatMap((v) => Array.from(v.dataSync()));
    assert.equal(w(c), w(a), 'resumed = straight');
    fs.rmSync(dir, { recursive: true, force: true });
    for (const m of [a, b, c]) m.dispose();
  });
});

test.run();
