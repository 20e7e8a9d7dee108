import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertNoLeak, tensorMaxDiff } from './util';
import { matMulFast, linearFrozen } from '../lib/ops/linear';
import { Rng } from '../lib/util/random';

test.before(async () => {
  await setupBackend();
});

test('matMulFast and linearFrozen match tf.matMul and its gradients', async () => {
  await assertNoLeak('ops', async () => {
    const rng = new Rng(1);
    const x = tf.tensor2d(rng.normalArray(5 * 7), [5, 7]);
    const w = tf.tensor2d(rng.normalArray(3 * 7), [3, 7]);
    const g = tf.tensor2d(rng.normalArray(5 * 3), [5, 3]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true), g)));
    const fast = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(matMulFast(a as tf.Tensor2D, tf.transpose(b as tf.Tensor2D)), g)));
    const [ra, rb] = ref([x, w]);
    const [fa, fb] = fast([x, w]);
    assert.ok(tensorMaxDiff(ra, fa) < 1e-5, 'dx');
    assert.ok(tensorMaxDiff(rb, fb) < 1e-5, 'dW');
    const fr = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(linearFrozen(a as tf.Tensor2D, w), g)));
    const dx = fr(x);
    assert.ok(tensorMaxDiff(ra, dx) < 1e-5, 'frozen dx');
    tf.dispose([x, w, g, ra, rb, fa, fb, dx]);
  });
});

test('Rng is deterministic per seed', () => {
  const a = new Rng(42).uniformArray(5, 0, 1);
  const b = new Rng(42).uniformArray(5, 0, 1);
  const c = new Rng(43).uniformArray(5, 0, 1);
  assert.equal(Array.from(a), Array.from(b));
  assert.not.equal(Array.from(a), Array.from(c));
});

test.run();
