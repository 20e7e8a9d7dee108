import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertNoLeak, setupBackend } from '../util';
import { ToyLM } from './toy';
import { collectTrainParams, countParams } from '../../lib/train/params';
import { injectAdapters } from '../../lib/models/inject';
import { resolveAdapterConfig } from '../../lib/adapters/registry';

test.before(async () => {
  await setupBackend();
});

test('LoRA+ scales lora_B (and 1-D adapter tensors, as PEFT does) and weight decay skips vectors', async () => {
  await assertNoLeak('param groups', () => {
    const model = new ToyLM(11, 8, 1);
    model.proj.weight.trainable = false;
    model.embed.trainable = false;
    injectAdapters(model, { adapter: resolveAdapterConfig({ kind: 'dora', r: 2, alpha: 4 }), targets: ['model.proj'], seed: 0 });
    const plain = collectTrainParams(model, { loraPlusRatio: null });
    assert.equal(plain.map((p) => p.name).sort(), ['model.proj.lora_A', 'model.proj.lora_B', 'model.proj.lora_magnitude_vector']);
    assert.ok(plain.every((p) => p.lrScale === 1), 'no LoRA+: every lr scale is 1');
    const plus = Object.fromEntries(collectTrainParams(model, { loraPlusRatio: 16 }).map((p) => [p.name, p]));
    assert.is(plus['model.proj.lora_A'].lrScale, 1);
    assert.is(plus['model.proj.lora_B'].lrScale, 16);
    assert.is(plus['model.proj.lora_magnitude_vector'].lrScale, 16, 'PEFT LoRA+ puts 1-D tensors in the lora_B group');
    assert.ok(plus['model.proj.lora_A'].decay && plus['model.proj.lora_B'].decay && !plus['model.proj.lora_magnitude_vector'].decay);
    assert.is(countParams(plain), 2 * 8 + 8 * 2 + 8);
    model.dispose();
  });
});

test('full fine-tuning trains every base parameter under its state-dict name; no trainable variable is an error', async () => {
  await assertNoLeak('full params', () => {
    const model = new ToyLM(11, 8, 2);
    injectAdapters(model, { adapter: resolveAdapterConfig({ kind: 'full' }), targets: 'all-linear', seed: 0 });
    const names = collectTrainParams(model, { loraPlusRatio: null }).map((p) => p.name).sort();
    assert.equal(names, ['lm_head.weight', 'model.embed.weight', 'model.proj.weight']);
    const frozen = new ToyLM(11, 8, 3);
    for (const v of frozen.parameters().values()) v.trainable = false;
    assert.throws(() => collectTrainParams(frozen, { loraPlusRatio: null }), /no trainable variables/);
    model.dispose();
    frozen.dispose();
  });
});

test.run();
