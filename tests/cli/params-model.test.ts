/** Model presets, linear listings and target selection (the shape side of `bonelab params`, reused for injection). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PRESETS, countModelParams, listLinears, modelShapeFromConfig } from '../../lib/models/presets';
import { createRwkv6 } from '../../lib/models/rwkv6';
import { rwkv6Preset } from '../../lib/models/rwkv6-config';
import { layerLocalName, matchesTarget, peftTargetModules, selectTargets } from '../../lib/models/targets';
import { setupBackend, throwsWith } from '../util';

test.before(async () => {
  await setupBackend();
});

test('presets list their linears under HF / official names with the published shapes', () => {
  const l2 = listLinears(PRESETS['llama2-7b']);
  assert.is(l2.length, 32 * 7 + 1);
  assert.equal(l2[0], { name: 'model.layers.0.self_attn.q_proj', out: 4096, in: 4096, bias: false });
  assert.equal(l2[6], { name: 'model.layers.0.mlp.down_proj', out: 4096, in: 11008, bias: false });
  assert.equal(l2[l2.length - 1], { name: 'lm_head', out: 32000, in: 4096, bias: false });
  const l3 = listLinears(PRESETS['llama-3.2-3b']);
  const byName = new Map(l3.map((l) => [l.name, [l.out, l.in]]));
  assert.equal(byName.get('model.layers.27.self_attn.q_proj'), [3072, 3072], 'head_dim 128 x 24 heads');
  assert.equal(byName.get('model.layers.27.self_attn.k_proj'), [1024, 3072], '8 kv heads x 128');
  assert.equal(byName.get('model.layers.27.self_attn.o_proj'), [3072, 3072]);
  const mis = new Map(listLinears(PRESETS['mistral-7b']).map((l) => [l.name, [l.out, l.in]]));
  assert.equal(mis.get('model.layers.31.self_attn.v_proj'), [1024, 4096]);
  assert.equal(mis.get('model.layers.31.mlp.up_proj'), [14336, 4096]);
  const rw = listLinears(PRESETS['rwkv6-7b']);
  assert.is(rw.length, 32 * 8 + 1);
  const rwn = new Map(rw.map((l) => [l.name, [l.out, l.in]]));
  for (const m of ['att.receptance', 'att.key', 'att.value', 'att.gate', 'att.output', 'ffn.receptance']) assert.equal(rwn.get(`blocks.5.${m}`), [4096, 4096], m);
  assert.equal(rwn.get('blocks.5.ffn.key'), [14336, 4096]);
  assert.equal(rwn.get('blocks.5.ffn.value'), [4096, 14336]);
  assert.equal(rwn.get('head'), [65536, 4096]);
});

test('head_dim decoupled from hidden/heads, biases, and config errors naming the key', () => {
  const s = modelShapeFromConfig({ model_type: 'llama', hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, vocab_size: 10, attention_bias: true });
  const l = new Map(listLinears(s).map((x) => [x.name, x]));
  assert.equal([l.get('model.layers.0.self_attn.q_proj')!.out, l.get('model.layers.0.self_attn.o_proj')!.in], [128, 128]);
  assert.is(l.get('model.layers.0.self_attn.k_proj')!.out, 64);
  assert.is(l.get('model.layers.0.self_attn.v_proj')!.bias, true);
  // full count: embed 640, q 64*128+128, k/v 64*64+64 each, o 128*64+64, mlp 3*64*96, norms 3*64, head 640.
  assert.is(countModelParams(s).total, 640 + (8192 + 128) + 2 * (4096 + 64) + (8192 + 64) + 3 * 64 * 96 + 3 * 64 + 640);
  throwsWith(() => modelShapeFromConfig({ hidden_size: 64, num_attention_heads: 4 }, 'c.json'), ['c.json', "missing 'intermediate_size'"], 'missing key');
  throwsWith(() => modelShapeFromConfig({ ...PRESETS['llama2-7b'], num_hidden_layers: '32' }, 'c.json'), ["'num_hidden_layers'", '"32"'], 'string');
  throwsWith(() => modelShapeFromConfig({ ...PRESETS['llama2-7b'], num_key_value_heads: 5 }, 'c.json'), ['num_key_value_heads 5'], 'kv heads');
  throwsWith(() => modelShapeFromConfig({ ...PRESETS['llama2-7b'], model_type: 'gpt2' }, 'c.json'), ['model_type', '"gpt2"'], 'model type');
  throwsWith(() => modelShapeFromConfig({ ...PRESETS['llama2-7b'], tie_word_embeddings: 'no' }, 'c.json'), ["'tie_word_embeddings'", '"no"'], 'bool');
  throwsWith(() => modelShapeFromConfig({ model_type: 'rwkv6', n_embd: 64, n_layer: 2 }, 'r.json'), ['r.json', 'vocab_size'], 'rwkv missing');
});

test("RWKV6 full count equals the kit's RWKV6 model's actual parameters", () => {
  const cfg = rwkv6Preset('tiny', 50);
  const model = createRwkv6(cfg, { seed: 1 });
  try {
    let n = 0;
    for (const v of model.parameters().values()) n += v.size;
    assert.is(countModelParams(cfg as unknown as Record<string, unknown>).total, n);
    const shapes = new Map([...model.linears()].map(([k, l]) => [k, [l.outFeatures, l.inFeatures]]));
    const listed = listLinears(cfg as unknown as Record<string, unknown>);
    for (const l of listed) if (l.name !== 'head') assert.equal(shapes.get(l.name), [l.out, l.in], `${l.name}: same name and shape in the model`);
    assert.is(listed.filter((l) => l.name !== 'head').length, [...shapes.keys()].filter((k) => k !== 'head').length);
  } finally {
    model.dispose();
  }
});

test('selectTargets: all-linear skips the head, suffixes match whole components, regexes match whole names', () => {
  const names = listLinears(PRESETS['llama2-7b']).slice(0, 14).map((l) => l.name).concat(['lm_head']);
  assert.is(selectTargets(names, 'all-linear').length, 14);
  assert.ok(!selectTargets(names, 'all-linear').includes('lm_head'));
  assert.equal(selectTargets(names, ['lm_head']), ['lm_head'], 'the head can be targeted by name');
  assert.equal(selectTargets(names, ['v_proj', 'q_proj']), ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj'], 'model order');
  assert.equal(selectTargets(names, ['layers.1.mlp.up_proj']), ['model.layers.1.mlp.up_proj']);
  assert.equal(selectTargets(names, 're:.*\\.1\\.self_attn\\.(q|k)_proj'), ['model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.k_proj']);
  assert.equal(selectTargets(names, ['re:.*0\\.mlp\\.down_proj']), ['model.layers.0.mlp.down_proj']);
  throwsWith(() => selectTargets(names, ['re:q_proj']), ["'re:q_proj'", 'matches no'], 'regex must match the whole name');
  throwsWith(() => selectTargets(names, ['proj']), ["'proj'", 'matches no', 'self_attn.q_proj'], 'suffix is component-wise');
  throwsWith(() => selectTargets(names, ['q_proj', 'wq']), ["'wq'"], 'one unmatched entry');
  throwsWith(() => selectTargets(names, []), ['empty'], 'empty');
  throwsWith(() => selectTargets(names, ['re:(']), ['invalid regular expression', '('], 'bad regex');
  const rw = listLinears(PRESETS['rwkv6-7b']).map((l) => l.name);
  assert.is(selectTargets(rw, ['att.key']).length, 32, 'att.key does not take ffn.key');
  assert.is(selectTargets(rw, ['key']).length, 64, 'a bare suffix takes both, as in PEFT');
  assert.ok(!matchesTarget('head', 'all-linear') && matchesTarget('blocks.0.ffn.value', 'all-linear'));
});

test('peftTargetModules: PEFT-style short names when unambiguous, longer suffixes when not', () => {
  const ll = listLinears(PRESETS['llama2-7b']).map((l) => l.name);
  assert.equal(peftTargetModules(selectTargets(ll, ['q_proj', 'v_proj']), ll), ['q_proj', 'v_proj']);
  assert.equal(peftTargetModules(selectTargets(ll, 'all-linear'), ll), ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
  const rw = listLinears(PRESETS['rwkv6-7b']).map((l) => l.name);
  const attKey = selectTargets(rw, ['att.key']);
  const t = peftTargetModules(attKey, rw);
  assert.equal(t, ['att.key']);
  assert.equal(selectTargets(rw, t), attKey, 'the written targets select exactly the same modules');
  assert.equal(peftTargetModules(selectTargets(rw, 'all-linear'), rw), ['gate', 'key', 'output', 'receptance', 'value']);
  assert.equal(peftTargetModules(attKey), ['att.key'], 'without the full list: the layer-local name');
  assert.is(layerLocalName('model.layers.12.mlp.up_proj'), 'mlp.up_proj');
});

test.run();
