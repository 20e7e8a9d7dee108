import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_EXPERIMENT, parseOverride, resolveExperiment } from '../../lib/experiments/config';
import { deepMerge, jsonEqual } from '../../lib/experiments/schema';
import { adapterDefaults } from '../../lib/adapters/registry';

test('defaults resolve to themselves, and the result is a fresh object', () => {
  const a = resolveExperiment();
  assert.equal(a, DEFAULT_EXPERIMENT);
  a.optimizer.lr = 5;
  assert.is(DEFAULT_EXPERIMENT.optimizer.lr, 1e-3, 'defaults untouched');
});

test('layers merge deeply left to right; arrays and null replace', () => {
  const c = resolveExperiment({ optimizer: { lr: 2e-3 }, targets: ['q_proj'] }, { optimizer: { clipNorm: null }, steps: 10, eval: { every: 5 } });
  assert.is(c.optimizer.lr, 2e-3);
  assert.is(c.optimizer.clipNorm, null);
  assert.is(c.optimizer.beta2, DEFAULT_EXPERIMENT.optimizer.beta2, 'sibling keys kept');
  assert.equal(c.targets, ['q_proj']);
  assert.is(c.steps, 10);
});

test('adapter: a new kind starts from its defaults, the same kind is patched', () => {
  const lora = resolveExperiment({ adapter: { kind: 'lora', r: 4 } });
  assert.is(lora.adapter.kind, 'lora');
  assert.is((lora.adapter as { r: number }).r, 4);
  assert.ok('alpha' in lora.adapter && 'init' in lora.adapter, 'LoRA defaults filled in');
  const patched = resolveExperiment({ adapter: { kind: 'lora', r: 4, alpha: 32 } }, { adapter: { r: 16 } });
  assert.equal([(patched.adapter as { r: number }).r, (patched.adapter as { alpha: number }).alpha], [16, 32]);
  const switched = resolveExperiment({ adapter: { kind: 'lora', alpha: 32 } }, { adapter: { kind: 'bone' } });
  assert.equal(switched.adapter, adapterDefaults('bone'), 'no LoRA field leaks into Bone');
});

test('errors name the key path and the value', () => {
  assert.throws(() => resolveExperiment({ optimizer: { lr: 'fast' } }), (e: Error) => e.message === 'optimizer.lr: expected number, got "fast"');
  assert.throws(() => resolveExperiment({ optimizer: { lrr: 1 } }), /^optimizer: unknown key "lrr" \(known: lr, weightDecay/);
  assert.throws(() => resolveExperiment({ steps: 2.5 }), /^steps: expected integer, got 2\.5/);
  assert.throws(() => resolveExperiment({ steps: 0 }), /^steps: must be >= 1, got 0/);
  assert.throws(() => resolveExperiment({ schedule: { kind: 'exp' } }), /^schedule\.kind: expected one of "constant" \| "cosine" \| "linear", got "exp"/);
  assert.throws(() => resolveExperiment({ optimizer: { clipNorm: 'x' } }), /^optimizer\.clipNorm: expected number or null, got "x"/);
  assert.throws(() => resolveExperiment({ model: 3 }), /^model: expected object, got 3/);
  assert.throws(() => resolveExperiment({ targets: [] }), /^targets: expected "all-linear" or a non-empty array/);
  assert.throws(() => resolveExperiment({ targets: ['re:('] }), /^targets: "re:\(" is not a valid regular expression/);
  assert.throws(() => resolveExperiment({ adapter: { kind: 'lora', r: 'x' } }), /^adapter\.r: .*`r` should be a positive integer value but the value passed is 'x'/);
  assert.throws(() => resolveExperiment({ adapter: { kind: 'nope' } }), /^adapter\.kind: .*unknown kind "nope"/);
  assert.throws(() => resolveExperiment({ adapter: { kind: 'bone', alpha: 2 } }), /^adapter\.alpha: .*unknown field 'alpha'/);
  assert.throws(() => resolveExperiment({ data: { task: 'gsm8k' } }), /^data\.path: task "gsm8k" reads a JSONL file/);
  assert.throws(() => resolveExperiment({ steps: 10, schedule: { warmupSteps: 20 } }), /^schedule\.warmupSteps: 20 exceeds steps=10/);
  assert.throws(() => resolveExperiment({ optimizer: { loraPlusRatio: 16 } }), /^optimizer\.loraPlusRatio: LoRA\+ applies to LoRA-family adapters, not "bone"/);
  assert.throws(() => resolveExperiment([1, 2]), /^<root>: expected object, got array/);
});

test('parseOverride: key paths and JSON values', () => {
  assert.equal(parseOverride('optimizer.lr=3e-4'), { optimizer: { lr: 3e-4 } });
  assert.equal(parseOverride('schedule.kind=constant'), { schedule: { kind: 'constant' } });
  assert.equal(parseOverride('targets=["q_proj","v_proj"]'), { targets: ['q_proj', 'v_proj'] });
  assert.equal(parseOverride('optimizer.clipNorm=null'), { optimizer: { clipNorm: null } });
  assert.throws(() => parseOverride('steps'), /override "steps": expected key\.path=value/);
  assert.is(resolveExperiment(parseOverride('optimizer.lr=3e-4')).optimizer.lr, 3e-4);
});

test('deepMerge and jsonEqual', () => {
  const base = { a: { b: 1, c: [1, 2] }, d: 1 };
  const m = deepMerge(base, { a: { c: [3] }, e: null });
  assert.equal(m, { a: { b: 1, c: [3] }, d: 1, e: null });
  assert.equal(base, { a: { b: 1, c: [1, 2] }, d: 1 }, 'input untouched');
  assert.ok(jsonEqual({ x: 1, y: [1, { z: 2 }] }, { y: [1, { z: 2 }], x: 1 }));
  assert.not.ok(jsonEqual({ x: 1 }, { x: 1, y: 2 }));
  assert.not.ok(jsonEqual([1, 2], [2, 1]));
});

test.run();
