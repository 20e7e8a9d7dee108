import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyPreset, expandGrid, validateExperimentFile, type GridSpec } from '../../lib/experiments/grid-spec';
import { formatLr, parseVariant } from '../../lib/experiments/naming';
import { PRESETS } from '../../lib/models/presets';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// A checkpoint folder holding only LLaMA2-7B's config.json: enough for budgets, which need shapes, not weights.
const LLAMA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-llama2-'));
fs.writeFileSync(path.join(LLAMA_DIR, 'config.json'), JSON.stringify(PRESETS['llama2-7b']));
const LLAMA = { model: { source: LLAMA_DIR } };
test.after(() => fs.rmSync(LLAMA_DIR, { recursive: true, force: true }));

test('expansion: cartesian product, seed-major, stable names, r axis skipped for full fine-tuning', () => {
  const spec: GridSpec = { name: 'g', base: { steps: 10 }, axes: { method: ['bone', 'lora', 'full'], r: [4, 8], lr: [1e-3, 2e-3], seed: [0, 1] } };
  const cells = expandGrid(spec);
  assert.is(cells.length, 8 + 8 + 4);
  assert.ok(cells.slice(0, 10).every((c) => c.config.seed === 0), 'all seed-0 cells first');
  const names = cells.map((c) => c.variant);
  assert.ok(names.includes('bone-r4-lr1e-3-s0') && names.includes('lora-r8-lr2e-3-s1') && names.includes('full-lr2e-3-s1'), names.join(' '));
  assert.is(new Set(names).size, names.length);
  const c = cells.find((x) => x.variant === 'lora-r8-lr2e-3-s1')!;
  assert.equal([c.config.name, c.config.variant, c.config.seed, c.config.optimizer.lr, c.config.steps, c.group, c.label], ['g', 'lora-r8-lr2e-3-s1', 1, 2e-3, 10, 'lora-r8-lr2e-3', 'lora']);
  assert.is((c.config.adapter as { r: number }).r, 8);
  assert.equal(expandGrid(spec).map((x) => x.variant), names, 'deterministic');
});

test('matchBudget: LoRA and PiSSA get the paper rank against Bone r=64 on LLaMA2-7B; with an r axis, per reference r', () => {
  const spec: GridSpec = { name: 'm', base: LLAMA, axes: { method: ['bone', 'lora', 'pissa'] }, matchBudget: { reference: { kind: 'bone', r: 64 }, kinds: ['lora', 'pissa'] } };
  assert.equal(expandGrid({ ...spec, base: { ...LLAMA, adapter: { kind: 'bone', r: 64 } } }).map((c) => c.variant), ['bone-r64-lr1e-3-s0', 'lora-r36-lr1e-3-s0', 'pissa-r36-lr1e-3-s0']);
  // Bone r=32: 43.5M -> smallest even LoRA rank reaching it is 18 (44.97M; 16 gives 39.98M).
  const swept = expandGrid({ ...spec, axes: { method: ['bone', 'lora'], r: [32, 64] } }).map((c) => c.variant);
  assert.equal(swept, ['bone-r32-lr1e-3-s0', 'bone-r64-lr1e-3-s0', 'lora-r18-lr1e-3-s0', 'lora-r36-lr1e-3-s0']);
});

test('method entries with labels carry extra adapter fields; label collisions are errors', () => {
  const cells = expandGrid({ name: 'b', base: {}, axes: { method: ['bat', { kind: 'bat', label: 'bat-in', convention: 'in-block' }], r: [8] } });
  assert.equal(cells.map((c) => c.variant), ['bat-r8-lr1e-3-s0', 'bat-in-r8-lr1e-3-s0']);
  assert.is((cells[1].config.adapter as { convention: string }).convention, 'in-block');
  assert.equal(parseVariant('bat-in-r8-lr1e-3-s0'), { label: 'bat-in', r: 8, lr: '1e-3', seed: 0 });
  assert.throws(
    () => expandGrid({ name: 'b', base: {}, axes: { method: [{ kind: 'lora', alpha: 8 }, { kind: 'lora', alpha: 16 }] } }),
    /experiment b: two different cells are both named lora-r8-lr1e-3-s0; give the method entries distinct labels/,
  );
  assert.throws(() => expandGrid({ name: 'b', base: { optimizer: { lr: 'x' } }, axes: {} }), /experiment b: optimizer\.lr: expected number, got "x"/);
  // Per-method overrides (full fine-tuning at its own lr); an lr axis still applies after them.
  const full = expandGrid({ name: 'f', base: {}, axes: { method: ['bone', { kind: 'full', overrides: { optimizer: { lr: 2e-4 } } }] } });
  assert.equal(full.map((c) => [c.variant, c.config.optimizer.lr]), [['bone-r8-lr1e-3-s0', 1e-3], ['full-lr2e-4-s0', 2e-4]]);
  const swept = expandGrid({ name: 'f', base: {}, axes: { method: [{ kind: 'full', overrides: { optimizer: { lr: 2e-4 } } }], lr: [5e-4] } });
  assert.equal(swept.map((c) => c.variant), ['full-lr5e-4-s0']);
  assert.throws(() => expandGrid({ name: 'f', base: {}, axes: { method: [{ kind: 'full', overrides: { optimizer: { lrr: 1 } } }] } }), /experiment f: optimizer: unknown key "lrr"/);
});

test('a checkpoint folder that does not exist is reported before any run', () => {
  assert.throws(() => expandGrid({ name: 'c', base: { model: { source: 'no/such/folder' } }, axes: {} }), /experiment c: model\.source: no checkpoint folder at "no\/such\/folder"/);
});

test('formatLr is short and stable', () => {
  assert.equal([1e-3, 2e-4, 1.5e-3, 1, 0.1].map(formatLr), ['1e-3', '2e-4', '1.5e-3', '1', '1e-1']);
});

test('experiment files: validation names the key path; presets patch base deeply and replace axes', () => {
  const file = validateExperimentFile(
    {
      name: 'exp',
      base: { steps: 100, optimizer: { lr: 1e-3 } },
      axes: { method: ['bone', 'lora'], seed: [0, 1, 2] },
      presets: { quick: { base: { steps: 20 } }, full: { base: { optimizer: { weightDecay: 0.1 } }, axes: { seed: [0, 1, 2, 3, 4] } } },
    },
    'exp.json',
  );
  const quick = applyPreset(file, 'quick');
  assert.is(quick.name, 'exp');
  assert.equal(quick.base, { steps: 20, optimizer: { lr: 1e-3 } });
  const full = applyPreset(file, 'full');
  assert.is(full.name, 'exp-full');
  assert.equal(full.base, { steps: 100, optimizer: { lr: 1e-3, weightDecay: 0.1 } });
  assert.equal(full.axes, { method: ['bone', 'lora'], seed: [0, 1, 2, 3, 4] });
  assert.throws(() => applyPreset(file, 'huge'), /experiment "exp": no preset "huge" \(has: quick, full\)/);
  assert.throws(() => validateExperimentFile({ name: 'e', axis: {} }, 'e.json'), /^e\.json: <root>: unknown key "axis"/);
  assert.throws(() => validateExperimentFile({ name: 'e', axes: { lr: ['x'] } }, 'e.json'), /^e\.json: axes\.lr\[0\]: expected number, got "x"/);
  assert.throws(() => validateExperimentFile({ name: 'e', presets: { quick: { axes: { seed: [-1] } } } }, 'e.json'), /^e\.json: presets\.quick\.axes\.seed\[0\]: must be >= 0, got -1/);
  assert.throws(() => validateExperimentFile({ name: 'a/b' }, 'e.json'), /name: "a\/b" is not a safe folder name/);
  assert.throws(() => validateExperimentFile({ name: 'e', axes: { method: [{ kind: 'lora', label: 'bad label' }] } }, 'e.json'), /axes\.method\[0\]: label: expected a short name/);
});

test.run();
