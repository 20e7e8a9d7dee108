import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { assertNoLeak, setupBackend, tensorMaxDiff } from '../util';
import { boneFused, chunkSum, loraFused, benchLayer } from '../../lib/bench/layer';
import { Rng } from '../../lib/util/random';

test.before(async () => {
  await setupBackend();
});

const rand = (rng: Rng, shape: [number, number], std = 1) => tf.tensor2d(rng.normalArray(shape[0] * shape[1], std), shape);

test('fused Bone and LoRA layers give the autograd values and gradients (x constant or not)', async () => {
  await assertNoLeak('fused layers', () => {
    const rng = new Rng(5);
    const [N, I, O, r, rl] = [6, 12, 10, 4, 3];
    const x = rand(rng, [N, I]);
    const W = rand(rng, [O, I]);
    const Wt = tf.transpose(W) as tf.Tensor2D;
    const D = rand(rng, [r, O]);
    const A = rand(rng, [rl, I]);
    const B = rand(rng, [O, rl]);
    const g = rand(rng, [N, O]);
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, g));
    const boneRef = (xi: tf.Tensor2D, d: tf.Tensor2D) => tf.add(tf.matMul(xi, W, false, true), tf.matMul(tf.sum(tf.reshape(xi, [N, I / r, r]), 1) as tf.Tensor2D, d));
    const loraRef = (xi: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D) => tf.add(tf.matMul(xi, W, false, true), tf.mul(tf.matMul(tf.matMul(xi, a, false, true), b, false, true), 2));
    const want = tf.grads((xi: tf.Tensor, d: tf.Tensor) => loss(boneRef(xi as tf.Tensor2D, d as tf.Tensor2D)))([x, D]);
    const got = tf.grads((xi: tf.Tensor, d: tf.Tensor) => loss(boneFused(xi as tf.Tensor2D, d as tf.Tensor2D, W, Wt)))([x, D]);
    const gotD = tf.grad((d: tf.Tensor) => loss(boneFused(x, d as tf.Tensor2D, W, Wt, false)))(D);
    assert.ok(tensorMaxDiff(want[0], got[0]) < 1e-4, 'bone dx');
    assert.ok(tensorMaxDiff(want[1], got[1]) < 1e-4, 'bone dD');
    assert.ok(tensorMaxDiff(want[1], gotD) < 1e-4, 'bone dD, x constant');
    const lw = tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => loss(loraRef(xi as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor2D)))([x, A, B]);
    const lg = tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => loss(loraFused(xi as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor2D, 2, W, Wt)))([x, A, B]);
    const lc = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(loraFused(x, a as tf.Tensor2D, b as tf.Tensor2D, 2, W, Wt, false)))([A, B]);
    ['dx', 'dA', 'dB'].forEach((n, i) => assert.ok(tensorMaxDiff(lw[i], lg[i]) < 1e-4, `lora ${n}`));
    assert.ok(tensorMaxDiff(lw[1], lc[0]) < 1e-4 && tensorMaxDiff(lw[2], lc[1]) < 1e-4, 'lora dA, dB with x constant');
    const yb = boneFused(x, D, W, Wt);
    const yr = tf.tidy(() => boneRef(x, D));
    assert.ok(tensorMaxDiff(yb, yr) < 1e-4, 'bone forward');
    const cs = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(chunkSum(xi as tf.Tensor2D, r), tf.ones([N, r]))))(x);
    assert.equal(Array.from(cs.dataSync()), new Array(N * I).fill(1), 'chunk-sum gradient copies dy to every chunk');
    tf.dispose([x, W, Wt, D, A, B, g, ...want, ...got, gotD, ...lw, ...lg, ...lc, yb, yr, cs]);
  });
});

test('the layer benchmark reports every implementation, with parameter parity, and leaks nothing', async () => {
  await assertNoLeak('bench layer', () => {
    const rows = benchLayer({ n: 32, inFeatures: 16, outFeatures: 16, boneR: 4, loraR: 2, runs: 1 });
    assert.is(rows.length, 12, '2 methods x 3 impls x (x const, x needs grad)');
    const bone = rows.filter((r) => r.method === 'bone');
    const lora = rows.filter((r) => r.method === 'lora');
    assert.ok(bone.every((r) => r.trainable_params === 64) && lora.every((r) => r.trainable_params === 64), 'Bone r=4 and LoRA r=2 both train 64 scalars on [16, 16]');
    assert.ok(rows.every((r) => r.median_ms > 0 && r.min_ms <= r.median_ms));
  });
});

test.run();
