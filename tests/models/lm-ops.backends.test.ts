import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../util';
import { causalLmLoss, crossEntropyRows, embeddingLookup, rmsNorm } from '../../lib/models/lm-ops';
import { createLlama } from '../../lib/models/llama';
import { groupedMatMul } from '../../lib/models/grouped-matmul';
import { Rng } from '../../lib/util/random';

test.before(async () => {
  await setupBackend();
});

test('embeddingLookup: rows and a scatter-add gradient that sums repeated ids', async () => {
  await assertNoLeak('embedding', () => {
    const table = tf.tensor2d(new Rng(1).normalArray(5 * 3), [5, 3]);
    const ids = tf.tensor1d([4, 1, 4, 0], 'int32');
    const g = tf.tensor2d(new Rng(2).normalArray(4 * 3), [4, 3]);
    const got = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), g)))(table);
    // reference: onehot(ids)^T g, built in JS
    const gd = g.arraySync() as number[][];
    const want = Array.from({ length: 5 }, (_, v) => [0, 1, 2].map((c) => [4, 1, 4, 0].reduce((s, id, n) => s + (id === v ? gd[n][c] : 0), 0)));
    assertClose(got.arraySync(), want, 1e-6, 'embedding grad');
    const rows = embeddingLookup(table, ids);
    assertClose(rows.arraySync(), [4, 1, 4, 0].map((i) => (table.arraySync() as number[][])[i]), 0, 'rows');
    tf.dispose([table, ids, g, got, rows]);
  });
});

test('crossEntropyRows: value and gradient equal -logSoftmax picked by onehot (autodiff)', async () => {
  await assertNoLeak('xent', () => {
    const x = tf.tensor2d(new Rng(3).normalArray(6 * 7, 3), [6, 7]);
    const y = tf.tensor1d([0, 6, 3, 3, 1, 5], 'int32');
    const ref = (t: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.logSoftmax(t as tf.Tensor2D), tf.oneHot(y, 7)), 1));
    const w = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ref(t), w)))(x);
    const gGot = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(crossEntropyRows(t as tf.Tensor2D, y), w)))(x);
    const vRef = tf.tidy(() => ref(x));
    const vGot = crossEntropyRows(x, y);
    assertClose(vGot.arraySync(), vRef.arraySync(), 1e-5, 'xent value');
    assertClose(gGot.arraySync(), gRef.arraySync(), 1e-5, 'xent grad');
    tf.dispose([x, y, w, gRef, gGot, vRef, vGot]);
  });
});

test('groupedMatMul (depthwise) equals per-group matMul, value and both gradients', async () => {
  await assertNoLeak('groupedMatMul', () => {
    const rng = new Rng(6);
    const [M, K, G, N] = [3, 4, 5, 2];
    const x = tf.tensor3d(rng.normalArray(M * K * G), [M, K, G]);
    const f = tf.tensor3d(rng.normalArray(K * G * N), [K, G, N]);
    const w = tf.tensor3d(rng.normalArray(M * G * N), [M, G, N]);
    // reference: batched matMul over g of X[:, :, g] [M, K] and F[:, g, :] [K, N], laid out as [M, G, N]
    const ref = (a: tf.Tensor, b: tf.Tensor) => tf.transpose(tf.matMul(tf.transpose(a, [2, 0, 1]) as tf.Tensor3D, tf.transpose(b, [1, 0, 2]) as tf.Tensor3D), [1, 0, 2]);
    const loss = (fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a, b), w));
    const [rx, rf] = tf.grads(loss(ref))([x, f]);
    const [gx, gf] = tf.grads(loss((a, b) => groupedMatMul(a as tf.Tensor3D, b as tf.Tensor3D)))([x, f]);
    const y = groupedMatMul(x, f);
    const yRef = tf.tidy(() => ref(x, f));
    assertClose(y.arraySync(), yRef.arraySync(), 1e-5, 'value');
    assertClose(gx.arraySync(), rx.arraySync(), 1e-5, 'dX');
    assertClose(gf.arraySync(), rf.arraySync(), 1e-5, 'dF');
    tf.dispose([x, f, w, rx, rf, gx, gf, y, yRef]);
  });
});

test('causalLmLoss shifts labels, ignores -100; rmsNorm matches its formula', () => {
  const logits = tf.tensor3d(new Rng(4).normalArray(2 * 3 * 4), [2, 3, 4]);
  const labels = tf.tensor2d([[9, 2, -100], [9, 1, 3]], [2, 3], 'int32');
  const l = causalLmLoss(logits, labels).dataSync()[0];
  const lg = logits.arraySync();
  const nll = (row: number[], y: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[y];
  assertClose([l], [(nll(lg[0][0], 2) + nll(lg[1][0], 1) + nll(lg[1][1], 3)) / 3], 1e-5, 'loss');
  const x = tf.tensor2d([[1, 2, 3], [0, -1, 4]]);
  const wv = tf.tensor1d([1, 0.5, 2]);
  const got = rmsNorm(x, wv, 1e-6).arraySync();
  const want = [[1, 2, 3], [0, -1, 4]].map((r) => {
    const s = 1 / Math.sqrt(r.reduce((a, v) => a + v * v, 0) / 3 + 1e-6);
    return r.map((v, i) => v * s * [1, 0.5, 2][i]);
  });
  assertClose(got, want, 1e-5, 'rmsnorm');
  tf.dispose([logits, labels, x, wv]);
});

test('a tiny llama: forward, loss gradient and cached generation work on this backend', async () => {
  const m = createLlama({ vocab_size: 11, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, initializer_range: 0.5 }, { seed: 1 });
  for (const v of m.parameters().values()) v.trainable = true;
  const x = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
  const { value, grads } = tf.variableGrads(() => m.loss(x, x));
  assert.ok(Number.isFinite(value.dataSync()[0]));
  assert.is(Object.keys(grads).length, m.parameters().size);
  const gen = await m.generate([1, 2, 3, 4], 3);
  const full = m.logits(tf.tensor2d([[1, 2, 3, 4, gen[0], gen[1]]], [1, 6], 'int32')).arraySync()[0];
  const argmax = (r: number[]) => r.indexOf(Math.max(...r));
  assert.equal(gen, [argmax(full[3]), argmax(full[4]), argmax(full[5])]);
  tf.dispose([x, value, ...Object.values(grads)]);
  m.dispose();
});

test.run();
