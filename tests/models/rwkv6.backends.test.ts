/** RWKV6 on every backend (wasm and cpu): forward against the float64 reference and finite, leak-free gradients. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../util';
import { Rwkv6Model } from '../../lib/models/rwkv6';
import { randomWeights, refForward, tinyConfig } from './rwkv6-ref';

test.before(async () => {
  await setupBackend();
});

const cfg = tinyConfig({ n_embd: 8, dim_att: 8, dim_ffn: 16, head_size: 4, d_mix_lora: 2, d_decay_lora: 4, vocab_size: 11 });

test(`forward matches the float64 reference and full fine-tuning gradients are finite (backend ${process.env.BONELAB_BACKEND ?? 'wasm'})`, async () => {
  const weights = randomWeights(cfg, 21);
  const ids = [3, 1, 4, 1, 5, 9, 2];
  const want = refForward(cfg, weights, ids);
  const m = new Rwkv6Model(cfg, weights, { chunkLen: 3 });
  await assertNoLeak('backend forward + grads', () => {
    const x = tf.tensor2d([ids], [1, ids.length], 'int32');
    const lg = m.logits(x);
    assertClose(lg.arraySync(), [want], 2e-4, 'logits');
    for (const v of m.parameters().values()) v.trainable = true;
    const { value, grads } = tf.variableGrads(() => m.loss(x, x), m.trainableVariables());
    assert.ok(Number.isFinite(value.dataSync()[0]), 'finite loss');
    for (const g of Object.values(grads)) assert.ok(g.dataSync().every(Number.isFinite), 'finite gradient');
    tf.dispose([x, lg, value, ...Object.values(grads)]);
  });
  m.dispose();
});

test.run();
