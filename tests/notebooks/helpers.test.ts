/**
 * Notebook helpers without training: the smoke switch and results folder, GSM8K-format export of the kit's word
 * problems (read back by the kit's own GSM8K loader), steps-to-target on synthetic curves, and figure shapes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateWordProblems } from '../../datasets/wordproblems';
import { loadGsm8k } from '../../datasets/gsm8k';
import type { RunResult, StepMetrics } from '../../lib/experiments/types';
import { firstReach } from '../../lib/report/rows';
import { learningRateFigure, qualityVsCostFigure } from '../../lib/notebook/figures';
import { toGsm8kLine } from '../../lib/notebook/real-checkpoint';
import { experimentGrid } from '../../lib/notebook/experiment';
import { isSmoke, notebookContext } from '../../lib/notebook/setup';
import type { SummaryRow } from '../../lib/report/summary';
import { summarize } from '../../lib/report/stats';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-nbh-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('isSmoke: 1 is smoke, unset/0 is full, anything else is an error naming the value', () => {
  assert.is(isSmoke({ BONELAB_SMOKE: '1' }), true);
  assert.is(isSmoke({}), false);
  assert.is(isSmoke({ BONELAB_SMOKE: '0' }), false);
  assert.throws(() => isSmoke({ BONELAB_SMOKE: 'yes' }), /BONELAB_SMOKE="yes"/);
});

test('notebookContext: results/nb-<id>/<setting> under the working directory; bad ids rejected', () => {
  const cwd = process.cwd();
  process.chdir(tmp);
  try {
    const ctx = notebookContext('07-test', { BONELAB_SMOKE: '1' });
    assert.is(ctx.resultsDir, path.join(fs.realpathSync(tmp), 'results', 'nb-07-test', 'smoke'));
    assert.ok(fs.existsSync(ctx.resultsDir));
    assert.is(notebookContext('07-test', {}).setting, 'full');
  } finally {
    process.chdir(cwd);
  }
  assert.throws(() => notebookContext('quickstart'), /expected NN-name/);
});

test('experimentGrid: notebook smoke runs seed 0 of the smoke preset (which has two); full keeps the preset seeds', () => {
  const cwd = process.cwd();
  process.chdir(tmp);
  try {
    const smoke = notebookContext('07-test', { BONELAB_SMOKE: '1' });
    const full = notebookContext('07-test', {});
    const seeds = (cells: { config: { seed: number } }[]) => [...new Set(cells.map((c) => c.config.seed))];
    const s = experimentGrid(smoke, 'bone-vs-bat');
    assert.equal(seeds(s.cells), [0]);
    assert.ok(s.cells.length > 1, 'the other axes are kept');
    assert.equal(seeds(experimentGrid(full, 'bone-vs-bat').cells).length > 1, true);
    // The notebook's own axes come last, so it can still ask for more seeds explicitly.
    assert.equal(seeds(experimentGrid(smoke, 'bone-vs-bat', { axes: { seed: [3, 4] } }).cells), [3, 4]);
  } finally {
    process.chdir(cwd);
  }
});

test('word problems written as GSM8K JSONL read back identically with the GSM8K loader', () => {
  const problems = generateWordProblems({ seed: 0, n: 25, split: 'train' });
  const file = path.join(tmp, 'wp.jsonl');
  fs.writeFileSync(file, problems.map(toGsm8kLine).join('\n') + '\n');
  const back = loadGsm8k(file);
  assert.is(back.length, problems.length);
  back.forEach((b, i) => {
    assert.is(b.question, problems[i].question);
    assert.is(b.answer, problems[i].answer);
    assert.is(b.solution, problems[i].solution, `problem ${i}: solution text`);
  });
  assert.match(JSON.parse(toGsm8kLine(problems[0])).answer, /\n#### \d+$/);
});

function fakeRun(losses: number[]): RunResult {
  const metrics: StepMetrics[] = losses.map((l, i) => ({ step: i + 1, train_loss: l, grad_norm: 1, lr: 1e-3, tokens_per_s: 1, wall_s: 0.5 * (i + 1) }));
  return { train_info: { metrics } } as unknown as RunResult;
}

test('firstReach uses a moving mean: one low batch is not enough', () => {
  const r = fakeRun([3, 2, 0.5, 2, 1, 1, 1, 1, 1, 1]);
  assert.equal(firstReach(r, 1, 1), { step: 3, wall_s: 1.5 });
  assert.equal(firstReach(r, 1, 3), { step: 7, wall_s: 3.5 });
  assert.is(firstReach(r, 0.1, 1), null);
});

function group(label: string, lr: number, evalLoss: number[]): SummaryRow {
  const s = summarize(evalLoss);
  const none = summarize([]);
  return {
    group: `${label}-lr${lr}`, label, kind: label, r: 8, lr, n_runs: evalLoss.length, n_ok: evalLoss.length, n_diverged: 0, n_failed: 0, params: 100,
    stats: { accuracy: summarize([0.5, 0.6]), eval_loss: s, final_loss: none, early_loss: none, step_ms: summarize([10, 12]), peak_mb: summarize([100, 101]), init_grad_norm: none },
  };
}

test('figures: one trace per method and panel, points in lr order, CI as error bars', () => {
  const summary = [group('bone', 1e-2, [1, 1.2]), group('bone', 1e-3, [2, 2.2]), group('lora', 1e-3, [3, 3.2])];
  const lr = learningRateFigure(summary, ['eval_loss', 'accuracy']);
  assert.is(lr.data.length, 4, '2 methods x 2 panels');
  const bone = lr.data[0] as { x: number[]; y: number[]; error_y: { array: number[] } };
  assert.equal(bone.x, [1e-3, 1e-2]);
  [2.1, 1.1].forEach((want, i) => assert.ok(Math.abs(bone.y[i] - want) < 1e-9, `bone point ${i}: ${bone.y[i]} vs ${want}`));
  assert.ok(bone.error_y.array.every((e) => e > 0));
  assert.is((bone as { marker?: { color?: string } }).marker?.color, '#d62728', "bone in its kind's colour, as in the report");
  // A configuration without a finished run on a metric is left out of that panel, not drawn as a NaN point.
  const partial = [...summary, { ...group('lora', 1e-2, []), stats: { ...group('lora', 1e-2, []).stats, accuracy: summarize([]) } }];
  const lr2 = learningRateFigure(partial, ['eval_loss', 'accuracy']) as { data: { name: string; x: number[]; xaxis: string }[] };
  const lora = lr2.data.filter((t) => t.name === 'lora r=8');
  assert.equal(lora.map((t) => t.x), [[1e-3], [1e-3]]);
  assert.throws(() => learningRateFigure(summary, ['bogus' as never]), /unknown metric "bogus"/);
  const qc = qualityVsCostFigure(summary);
  assert.is(qc.data.length, 6, '3 groups x 2 panels');
  assert.equal((qc.data[3] as { x: number[] }).x, [100.5]);
});

test.run();
