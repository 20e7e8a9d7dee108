/** Bone's chunk sum uses a constant fold matrix shared by layers of the same (in, r): sharing must not leak or dangle. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { createAdapter } from '../../lib/adapters/registry';
import { createLinear } from '../../lib/models/linear';
import { Rng } from '../../lib/util/random';
import { assertClose, setupBackend } from '../util';

test.before(async () => {
  await setupBackend();
});

function boneOn(out: number, inF: number, r: number, seed: number) {
  const rng = new Rng(seed);
  const w = tf.tensor2d(rng.normalArray(out * inF), [out, inF]);
  const base = createLinear('model.layers.0.self_attn.q_proj', w, null);
  w.dispose();
  const layer = createAdapter(base, { kind: 'bone', r }, { seed });
  tf.tidy(() => layer.trainableVariables()[0].assign(tf.tensor(rng.normalArray(r * out), [r, out])));
  return { base, layer };
}

test('layers with the same (in, r) share the fold constants; disposing one leaves the other working; no leak after both', () => {
  const before = tf.memory().numTensors;
  const a = boneOn(6, 10, 4, 1); // in % r != 0: the fold pads implicitly
  const one = tf.memory().numTensors;
  const b = boneOn(6, 10, 4, 2);
  const two = tf.memory().numTensors;
  // the second layer of that shape adds its block and base weight only: the two fold constants ([in, r], [r, in]) are shared
  assert.is(two - one, one - before - 2, 'tensors added by a second layer with the same (in, r)');
  const c = boneOn(6, 10, 3, 3); // another r: its own constants
  assert.is(tf.memory().numTensors - two, one - before, 'a layer with a new (in, r) brings its own fold constants');
  const x = tf.tensor2d(new Rng(9).normalArray(5 * 10), [5, 10]);
  const want = tf.tidy(() => tf.matMul(x, b.layer.mergedWeight(), false, true)); // [5, 6]
  a.layer.dispose();
  a.base.dispose();
  const y = b.layer.forward(x);
  assertClose(y.dataSync(), want.dataSync(), 1e-4, 'forward after the other layer with the same fold was disposed');
  tf.dispose([x, want, y]);
  for (const l of [b, c]) {
    l.layer.dispose();
    l.layer.dispose(); // twice is harmless and must not release the shared constants twice
    l.base.dispose();
  }
  assert.is(tf.memory().numTensors, before, 'every fold constant released once its last layer is disposed');
});

test.run();
