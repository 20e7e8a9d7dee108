import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AdapterConfig } from '../../lib/adapters/types';
import { PEFT_VERSION, convertedLoraConfig, fromPeftConfig, parsePeftConfig, stringifyPeftConfig, toPeftConfig } from '../../lib/peft/config';
import { SHARED, throwsWith } from '../util';

const COMMON = ['auto_mapping', 'base_model_name_or_path', 'inference_mode', 'peft_type', 'peft_version', 'revision', 'task_type'];
// LoraConfig.to_dict() keys at the PEFT snapshot (../shared/reference/peft-semantics.md section 1).
const LORA_KEYS = [
  'alora_invocation_tokens', 'alpha_pattern', 'arrow_config', 'bias', 'corda_config', 'ensure_weight_tying', 'eva_config',
  'exclude_modules', 'fan_in_fan_out', 'init_lora_weights', 'kasa_config', 'layer_replication', 'layers_pattern',
  'layers_to_transform', 'loftq_config', 'lora_alpha', 'lora_bias', 'lora_dropout', 'lora_ga_config', 'megatron_config',
  'megatron_core', 'modules_to_save', 'monteclora_config', 'qalora_group_size', 'r', 'rank_pattern', 'target_modules',
  'target_parameters', 'trainable_token_indices', 'use_bdlora', 'use_dora', 'use_qalora', 'use_rslora', 'velora_config',
];
// MissConfig keys (section 6).
const MISS_KEYS = ['bias', 'exclude_modules', 'init_weights', 'layers_pattern', 'layers_to_transform', 'mini_r', 'miss_dropout', 'modules_to_save', 'r', 'target_modules'];

const CASES: { cfg: AdapterConfig; peft: Record<string, unknown> }[] = [
  { cfg: { kind: 'lora', r: 8, alpha: 16, rslora: false, init: 'kaiming', loraBias: false }, peft: { peft_type: 'LORA', r: 8, lora_alpha: 16, init_lora_weights: true, use_dora: false, use_rslora: false } },
  { cfg: { kind: 'lora', r: 4, alpha: 4, rslora: true, init: 'gaussian', loraBias: false }, peft: { init_lora_weights: 'gaussian', use_rslora: true, lora_bias: false } },
  { cfg: { kind: 'lora', r: 2, alpha: 1.5, rslora: false, init: 'none', loraBias: true }, peft: { init_lora_weights: false, lora_alpha: 1.5, lora_bias: true } },
  { cfg: { kind: 'pissa', r: 36, alpha: 36, rslora: false, niter: null }, peft: { init_lora_weights: 'pissa' } },
  { cfg: { kind: 'pissa', r: 16, alpha: 32, rslora: false, niter: 4 }, peft: { init_lora_weights: 'pissa_niter_4' } },
  { cfg: { kind: 'olora', r: 8, alpha: 8, rslora: false }, peft: { init_lora_weights: 'olora' } },
  { cfg: { kind: 'dora', r: 8, alpha: 16, rslora: false }, peft: { init_lora_weights: true, use_dora: true } },
  {
    cfg: { kind: 'loraga', r: 8, alpha: 16, rslora: false, direction: 'ArBr', scale: 'weight_svd', stableGamma: 16 },
    peft: { init_lora_weights: 'lora_ga', lora_ga_config: { direction: 'ArBr', scale: 'weight_svd', stable_gamma: 16 } },
  },
  { cfg: { kind: 'bone', r: 64 }, peft: { peft_type: 'MISS', r: 64, init_weights: true, mini_r: 1, miss_dropout: 0 } },
  { cfg: { kind: 'mini', r: 64, miniR: 8 }, peft: { peft_type: 'MISS', init_weights: 'mini', mini_r: 8 } },
  { cfg: { kind: 'bat', r: 16, convention: 'out-block' }, peft: { peft_type: 'MISS', init_weights: 'bat', r: 16 } },
];

test('toPeftConfig writes the full PEFT key set and the right values for every method', () => {
  for (const { cfg, peft } of CASES) {
    const j = toPeftConfig(cfg, ['v_proj', 'q_proj'], { baseModel: 'meta-llama/Llama-2-7b-hf' });
    const keys = Object.keys(j);
    const lora = j.peft_type === 'LORA';
    assert.equal(keys, [...COMMON, ...(lora ? LORA_KEYS : MISS_KEYS)].sort(), `${cfg.kind}: key set and order`);
    for (const [k, v] of Object.entries(peft)) assert.equal(j[k], v, `${cfg.kind}: ${k}`);
    assert.is(j.inference_mode, true);
    assert.is(j.task_type, 'CAUSAL_LM');
    assert.is(j.peft_version, PEFT_VERSION);
    assert.is(j.base_model_name_or_path, 'meta-llama/Llama-2-7b-hf');
    assert.equal(j.target_modules, ['q_proj', 'v_proj'], 'targets sorted');
    if (lora) {
      assert.is(j.bias, 'none');
      assert.equal(j.rank_pattern, {});
      if (cfg.kind !== 'loraga') assert.is(j.lora_ga_config, null);
    }
  }
});

test('fromPeftConfig(toPeftConfig(c)) gives back c and the targets', () => {
  for (const { cfg } of CASES) {
    for (const targets of [['q_proj', 'v_proj'], 'all-linear', 're:.*\\.(q|v)_proj'] as const) {
      const j = JSON.parse(stringifyPeftConfig(toPeftConfig(cfg, targets as never)));
      const back = fromPeftConfig(j);
      assert.equal(back.adapter, cfg, `${cfg.kind} round trip`);
      assert.equal(back.targets, targets, `${cfg.kind} targets ${JSON.stringify(targets)}`);
    }
  }
  const re = toPeftConfig(CASES[0].cfg, 're:.*\\.(q|v)_proj');
  assert.is(re.target_modules, '.*\\.(q|v)_proj', "'re:' becomes PEFT's regex string");
});

test('stringifyPeftConfig: sorted keys at every level, indent 2', () => {
  const s = stringifyPeftConfig(toPeftConfig(CASES[7].cfg, ['q_proj']));
  const top = [...s.matchAll(/^  "([a-z_]+)":/gm)].map((m) => m[1]);
  assert.equal(top, [...top].sort());
  assert.ok(s.includes('"lora_ga_config": {\n    "direction": "ArBr",\n    "scale": "weight_svd",\n    "stable_gamma": 16\n  }'), s);
  assert.ok(s.startsWith('{\n  "alora_invocation_tokens": null,'));
});

test('export refuses in-block Bat and full fine-tuning with clear errors', () => {
  throwsWith(() => toPeftConfig({ kind: 'bat', r: 4, convention: 'in-block' }, ['q_proj']), ["'in-block'", 'no PEFT equivalent', 'out-block'], 'in-block');
  throwsWith(() => toPeftConfig({ kind: 'full' }, ['q_proj']), ["'full'"], 'full');
  throwsWith(() => toPeftConfig(CASES[0].cfg, []), ['target_modules'], 'empty targets');
  throwsWith(() => toPeftConfig(CASES[0].cfg, ['q_proj', 're:.*']), ['cannot mix'], 'mixed targets');
});

test('reads every conformance-vector config as the intended kit method', () => {
  const dir = path.join(SHARED, 'conformance', 'vectors');
  const want: Record<string, Partial<AdapterConfig> & { kind: string }> = {
    'bone_16x24_r5_nondiv.json': { kind: 'bone', r: 5 },
    'bone_bat_16x24_r4.json': { kind: 'bat', r: 4, convention: 'out-block' },
    'dora_16x24_r4_a8.json': { kind: 'dora', r: 4, alpha: 8, rslora: false },
    'lora_16x24_r4_a8.json': { kind: 'lora', r: 4, alpha: 8, init: 'kaiming', loraBias: false },
    'loraga_16x24_r4_a4_random_unit.json': { kind: 'loraga', r: 4, alpha: 4, direction: 'random', scale: 'unit', stableGamma: 16 },
    'loraga_16x24_r4_a8_ArB2r_stable.json': { kind: 'loraga', direction: 'ArB2r', scale: 'stable' },
    'miss_balance_16x24_r5_nondiv.json': { kind: 'bone', r: 5 },
    'miss_bat_16x24_r4.json': { kind: 'bat', r: 4 },
    'miss_mini_16x24_r4_minir4.json': { kind: 'mini', r: 4, miniR: 4 },
    'olora_16x24_r4_a8.json': { kind: 'olora', r: 4, alpha: 8 },
    'pissa_16x24_r4_a8.json': { kind: 'pissa', niter: null },
    'pissa_niter2_16x24_r4_a4.json': { kind: 'pissa', niter: 2, alpha: 4 },
  };
  for (const [file, w] of Object.entries(want)) {
    const v = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const { adapter } = fromPeftConfig({ ...v.config, target_modules: ['q_proj'] }, file);
    for (const [k, val] of Object.entries(w)) assert.equal((adapter as unknown as Record<string, unknown>)[k], val, `${file}: ${k}`);
  }
});

test('old BONE configs read as MiSS; unknown keys are ignored; defaults follow PEFT', () => {
  const bone = fromPeftConfig({ peft_type: 'BONE', r: 8, init_weights: 'bat', target_modules: ['q_proj'], bias: 'none', some_future_key: { x: 1 } });
  assert.equal(bone.adapter, { kind: 'bat', r: 8, convention: 'out-block' });
  assert.is(bone.peftType, 'BONE');
  assert.equal(fromPeftConfig({ peft_type: 'BONE', r: 8, target_modules: ['q_proj'] }).adapter, { kind: 'bone', r: 8 });
  assert.equal(fromPeftConfig({ peft_type: 'MISS', r: 8, init_weights: false, target_modules: ['q_proj'] }).adapter, { kind: 'bone', r: 8 });
  const lora = fromPeftConfig({ peft_type: 'LORA', r: 8, target_modules: ['q_proj'], lora_dropout: 0.05, kasa_config: null, brand_new: [1] });
  assert.equal(lora.adapter, { kind: 'lora', r: 8, alpha: 8, rslora: false, init: 'kaiming', loraBias: false }, 'PEFT defaults: alpha 8, init true');
  assert.is(lora.dropout, 0.05);
  assert.is(fromPeftConfig({ peft_type: 'LORA', r: 2, target_modules: ['q_proj'], init_lora_weights: 'OLoRA' }).adapter.kind, 'olora', 'olora is case-insensitive');
  const ga = fromPeftConfig({ peft_type: 'LORA', r: 2, target_modules: ['q_proj'], init_lora_weights: 'lora_ga' }).adapter;
  assert.equal(ga, { kind: 'loraga', r: 2, alpha: 8, rslora: false, direction: 'ArB2r', scale: 'stable', stableGamma: 16 }, 'LoRA-GA defaults');
});

test('malformed configs are rejected naming the key and the value', () => {
  const base = { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj'] };
  const bad: [unknown, string[]][] = [
    [null, ['expected a JSON object']],
    [[1], ['expected a JSON object']],
    [{ ...base, peft_type: undefined }, ["'peft_type'"]],
    [{ ...base, peft_type: 'IA3' }, ["'peft_type'", '"IA3"']],
    [{ ...base, r: null }, ["'r'", 'null']],
    [{ ...base, r: '8' }, ["'r'", '"8"']],
    [{ ...base, r: 0 }, ["'r'", '0']],
    [{ ...base, r: 2.5 }, ["'r'", '2.5']],
    [{ ...base, lora_alpha: '16' }, ["'lora_alpha'", '"16"']],
    [{ ...base, use_rslora: 'yes' }, ["'use_rslora'", '"yes"']],
    [{ ...base, use_dora: 1 }, ["'use_dora'", '1']],
    [{ ...base, init_lora_weights: 'loftq' }, ["'init_lora_weights'", '"loftq"']],
    [{ ...base, init_lora_weights: 'pissa_niter_x' }, ["'init_lora_weights'", '"pissa_niter_x"']],
    [{ ...base, init_lora_weights: 3 }, ["'init_lora_weights'", '3']],
    [{ ...base, init_lora_weights: 'pissa', lora_bias: true }, ["'lora_bias'", 'pissa']],
    [{ ...base, init_lora_weights: 'gaussian', lora_bias: true }, ["'lora_bias'", 'gaussian']],
    [{ ...base, use_dora: true, lora_bias: true }, ["'lora_bias'", 'use_dora']],
    [{ ...base, init_lora_weights: 'corda' }, ["'init_lora_weights'", '"corda"']],
    [{ ...base, alpha_pattern: { q_proj: 2 } }, ["'alpha_pattern'", 'q_proj']],
    [{ ...base, init_lora_weights: 'lora_ga', lora_ga_config: 'ArBr' }, ["'lora_ga_config'", '"ArBr"']],
    [{ ...base, use_dora: true, init_lora_weights: 'pissa' }, ["'init_lora_weights'", '"pissa"']],
    [{ ...base, init_lora_weights: 'lora_ga', lora_ga_config: { direction: 'sideways' } }, ["'lora_ga_config.direction'", '"sideways"']],
    [{ ...base, init_lora_weights: 'lora_ga', lora_ga_config: { scale: 'huge' } }, ["'lora_ga_config.scale'", '"huge"']],
    [{ ...base, rank_pattern: { q_proj: 4 } }, ["'rank_pattern'", 'q_proj']],
    [{ ...base, fan_in_fan_out: true }, ["'fan_in_fan_out'", 'true']],
    [{ ...base, use_bdlora: { nblocks: 4 } }, ["'use_bdlora'", 'nblocks']],
    [{ ...base, modules_to_save: ['lm_head'] }, ["'modules_to_save'", 'lm_head']],
    [{ ...base, bias: 'all' }, ["'bias'", '"all"']],
    [{ ...base, lora_dropout: 1.5 }, ["'lora_dropout'", '1.5']],
    [{ ...base, target_modules: undefined }, ["'target_modules'", 'missing']],
    [{ ...base, target_modules: [] }, ["'target_modules'", '[]']],
    [{ ...base, target_modules: 5 }, ["'target_modules'", '5']],
    [{ peft_type: 'MISS', r: 8, init_weights: 'foo', target_modules: ['q_proj'] }, ["'init_weights'", '"foo"']],
    [{ peft_type: 'MISS', r: 8, init_weights: 'mini', mini_r: 0, target_modules: ['q_proj'] }, ["'mini_r'", '0']],
    [{ peft_type: 'BONE', r: 8, init_weights: 'mini', target_modules: ['q_proj'] }, ["'init_weights'", '"mini"', 'BONE']],
    [{ peft_type: 'MISS', r: 0, target_modules: ['q_proj'] }, ["'r'", '0']],
    [{ peft_type: 'MISS', r: 4, mini_r: null, init_weights: 'mini', target_modules: ['q_proj'] }, ["'mini_r'", 'null']],
    [{ peft_type: 'MISS', r: 4, layers_to_transform: [0, 1], target_modules: ['q_proj'] }, ["'layers_to_transform'", '[0,1]']],
  ];
  for (const [j, parts] of bad) throwsWith(() => fromPeftConfig(j), parts, JSON.stringify(j));
});

test('a missing r takes PEFT defaults: 8 for LoRA, 64 for MiSS and Bone', () => {
  assert.is((fromPeftConfig({ peft_type: 'LORA', target_modules: ['q_proj'] }).adapter as { r: number }).r, 8);
  assert.equal(fromPeftConfig({ peft_type: 'MISS', target_modules: ['q_proj'] }).adapter, { kind: 'bone', r: 64 });
  assert.equal(fromPeftConfig({ peft_type: 'BONE', init_weights: 'bat', target_modules: ['q_proj'] }).adapter, { kind: 'bat', r: 64, convention: 'out-block' });
  assert.equal(parsePeftConfig({ init_weights: 'mini' }, { method: 'miss' }).adapter, { kind: 'mini', r: 64, miniR: 1 });
  assert.equal(parsePeftConfig({ use_dora: true }, { method: 'dora' }).adapter, { kind: 'dora', r: 8, alpha: 8, rslora: false });
});

test("init-only options PEFT accepts are read for loading; creating them fresh is an error naming the key and value", () => {
  const lora = { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'] };
  const dora = { kind: 'dora', r: 4, alpha: 8, rslora: false };
  for (const init of [false, 'gaussian']) {
    const j = { ...lora, use_dora: true, init_lora_weights: init };
    assert.equal(fromPeftConfig(j).adapter, dora, `DoRA init ${init}: saved tensors overwrite the init`);
    assert.equal(parsePeftConfig(j, { use: 'load' }).adapter, dora);
    throwsWith(() => parsePeftConfig(j, { where: 'm.q_proj' }), ['m.q_proj: ', "'init_lora_weights'", JSON.stringify(init), 'use_dora'], `create DoRA init ${init}`);
  }
  for (const pt of ['MISS', 'BONE']) {
    const j = { peft_type: pt, r: 4, init_weights: false, target_modules: ['q_proj'] };
    assert.equal(fromPeftConfig(j).adapter, { kind: 'bone', r: 4 }, `${pt} init_weights false is balance maths`);
    throwsWith(() => parsePeftConfig(j, { use: 'create' }), ["'init_weights'", 'false', 'kaiming'], `create ${pt} init_weights false`);
  }
  const ga = { ...lora, init_lora_weights: 'lora_ga' };
  const defaults = { kind: 'loraga', r: 4, alpha: 8, rslora: false, direction: 'ArB2r', scale: 'stable', stableGamma: 16 };
  assert.equal(fromPeftConfig(ga).adapter, defaults, 'a saved LoRA-GA config without lora_ga_config reads');
  assert.equal(fromPeftConfig({ ...ga, lora_ga_config: null }).adapter, defaults);
  for (const g of [undefined, null]) {
    throwsWith(() => parsePeftConfig({ ...ga, lora_ga_config: g }), ["'lora_ga_config' must be provided when init_lora_weights='lora_ga'", 'LoraGAConfig(...)'], `create LoRA-GA, lora_ga_config ${g}`);
  }
  assert.equal(parsePeftConfig({ ...ga, lora_ga_config: {} }).adapter, defaults, 'an empty lora_ga_config is LoraGAConfig() defaults');
});

test("lora_bias with 'gaussian' (which PEFT rejects) is exported as init true and reads back with the same maths", () => {
  const cfg: AdapterConfig = { kind: 'lora', r: 4, alpha: 8, rslora: true, init: 'gaussian', loraBias: true };
  const j = toPeftConfig(cfg, ['q_proj']);
  assert.is(j.init_lora_weights, true);
  assert.is(j.lora_bias, true);
  assert.equal(fromPeftConfig(j).adapter, { ...cfg, init: 'kaiming' });
  assert.is(toPeftConfig({ ...cfg, loraBias: false }, ['q_proj']).init_lora_weights, 'gaussian');
  assert.equal(parsePeftConfig({ init_lora_weights: 'Gaussian' }, { method: 'lora' }).adapter, { kind: 'lora', r: 8, alpha: 8, rslora: false, init: 'gaussian', loraBias: false }, 'PEFT lower-cases gaussian');
});

// Bare configs with a method hint (the conformance vectors' form: no peft_type, no target_modules).
const HINTED: [string | undefined, Record<string, unknown>, AdapterConfig][] = [
  [undefined, { peft_type: 'LORA', r: 4, lora_alpha: 8, use_rslora: true }, { kind: 'lora', r: 4, alpha: 8, rslora: true, init: 'kaiming', loraBias: false }],
  ['lora', { init_lora_weights: false, lora_bias: true }, { kind: 'lora', r: 8, alpha: 8, rslora: false, init: 'none', loraBias: true }],
  ['lora', { init_lora_weights: 'gaussian', lora_dropout: 0.05, target_modules: ['q_proj'] }, { kind: 'lora', r: 8, alpha: 8, rslora: false, init: 'gaussian', loraBias: false }],
  ['pissa', { init_lora_weights: 'pissa_niter_16', r: 2, lora_alpha: 4 }, { kind: 'pissa', r: 2, alpha: 4, rslora: false, niter: 16 }],
  ['olora', { init_lora_weights: 'OLoRA' }, { kind: 'olora', r: 8, alpha: 8, rslora: false }],
  ['dora', { use_dora: true, r: 2 }, { kind: 'dora', r: 2, alpha: 8, rslora: false }],
  ['loraga', { init_lora_weights: 'lora_ga', lora_ga_config: { direction: 'random', scale: 'unit' } }, { kind: 'loraga', r: 8, alpha: 8, rslora: false, direction: 'random', scale: 'unit', stableGamma: 16 }],
  ['miss', { r: 4 }, { kind: 'bone', r: 4 }],
  ['miss', { r: 4, init_weights: 'mini', mini_r: 2 }, { kind: 'mini', r: 4, miniR: 2 }],
  ['bone', { peft_type: 'BONE', r: 4, init_weights: 'bat' }, { kind: 'bat', r: 4, convention: 'out-block' }],
];

test('parsePeftConfig: bare configs with a method hint, target_modules optional', () => {
  for (const [method, config, want] of HINTED) {
    const p = parsePeftConfig(config, { method });
    assert.equal(p.adapter, want, `${method ?? '-'} ${JSON.stringify(config)}`);
    assert.equal(p.targets, config.target_modules ?? null);
  }
  assert.is(parsePeftConfig({ r: 4 }, { method: 'bone' }).peftType, 'BONE');
  assert.is(parsePeftConfig({ r: 4, miss_dropout: 0.1 }, { method: 'miss' }).dropout, 0.1);
  throwsWith(() => fromPeftConfig({ peft_type: 'LORA', r: 8 }), ["'target_modules'", 'missing'], 'folders need target_modules');
});

test('parsePeftConfig: method hints must agree with the config; unsupported options name the key', () => {
  const bad: [Record<string, unknown>, string | undefined, string[]][] = [
    [{ fan_in_fan_out: true }, 'lora', ["'fan_in_fan_out'", 'true']],
    [{ rank_pattern: { q_proj: 4 } }, 'lora', ["'rank_pattern'", 'q_proj']],
    [{ init_lora_weights: 'corda' }, 'lora', ["'init_lora_weights'", '"corda"']],
    [{ init_weights: 'mini' }, 'bone', ["'init_weights'", '"mini"', 'BONE']],
    [{ peft_type: 'MISS' }, 'lora', ["method 'lora' does not match peft_type 'MISS'"]],
    [{ init_lora_weights: 'pissa' }, 'olora', ["method 'olora' does not match the config, which describes a 'pissa' adapter"]],
    [{ use_dora: true }, 'lora', ["method 'lora' does not match the config, which describes a 'dora' adapter"]],
    [{ r: 4 }, 'vera', ["unknown method 'vera'", 'miss']],
    [{ r: 4 }, undefined, ["'peft_type'", 'missing']],
  ];
  for (const [config, method, parts] of bad) throwsWith(() => parsePeftConfig(config, { method, where: 'model.layers.0.self_attn.q_proj' }), ['model.layers.0.self_attn.q_proj: ', ...parts], `${method} ${JSON.stringify(config)}`);
});

test('convertedLoraConfig doubles r and keeps the scaling (alpha x2, or x sqrt2 with rsLoRA)', () => {
  const p = convertedLoraConfig({ kind: 'pissa', r: 8, alpha: 16, rslora: false, niter: null });
  assert.equal(p, { kind: 'lora', r: 16, alpha: 32, rslora: false, init: 'kaiming', loraBias: false });
  const rs = convertedLoraConfig({ kind: 'olora', r: 8, alpha: 16, rslora: true });
  assert.is(rs.kind === 'lora' && rs.r, 16);
  const a = (rs as { alpha: number }).alpha;
  assert.ok(Math.abs(a / Math.sqrt(16) - 16 / Math.sqrt(8)) < 1e-12, `rsLoRA scaling kept: ${a}`);
  const ga = convertedLoraConfig({ kind: 'loraga', r: 4, alpha: 8, rslora: false, direction: 'ArB2r', scale: 'stable', stableGamma: 16 });
  assert.equal(toPeftConfig(ga, ['q_proj']).init_lora_weights, true);
  throwsWith(() => convertedLoraConfig({ kind: 'bone', r: 4 }), ["'bone'"], 'bone does not convert');
});

test.run();
