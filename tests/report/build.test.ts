import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReport } from '../../lib/report/build';
import { plotlyBundleScript } from '../../lib/report/plotly';
import { movingAverage, seedBand } from '../../lib/report/figures';
import { runRow } from '../../lib/report/rows';
import { summarize } from '../../lib/report/stats';
import { summarizeRuns } from '../../lib/report/summary';
import { runResultPath, writeRunResult } from '../../lib/results/write';
import { writeJsonAtomic } from '../../lib/util/fs';
import { fakeMainTable, fakeRun } from './fake-runs';
import { withTmpDir } from '../util';

test('summary: per-group mean/std/CI equal the direct computation; failed runs counted, not averaged', () => {
  const runs = [...fakeMainTable(), fakeRun({ adapter: { kind: 'bone', r: 8 }, seed: 3, status: 'failed', finalLoss: 9, accuracy: 0.99, stepMs: 1, peakMb: 1, gradNorm: 1 })];
  const s = summarizeRuns(runs.map(runRow));
  assert.equal(s.map((g) => g.kind), ['bone', 'bat', 'lora', 'pissa'].sort((a, b) => ['bone', 'bat', 'lora', 'pissa'].indexOf(a) - ['bone', 'bat', 'lora', 'pissa'].indexOf(b)));
  const bone = s.find((g) => g.kind === 'bone')!;
  assert.is(bone.n_runs, 4);
  assert.is(bone.n_ok, 3);
  assert.is(bone.n_failed, 1);
  const direct = summarize(runs.filter((r) => r.run_info.config.adapter.kind === 'bone' && r.train_info.status === 'ok').map((r) => r.train_info.final!.accuracy));
  assert.is(bone.stats.accuracy.n, 3);
  assert.ok(Math.abs(bone.stats.accuracy.mean - direct.mean) < 1e-12, 'mean');
  assert.ok(Math.abs(bone.stats.accuracy.std - direct.std) < 1e-12, 'std');
  assert.ok(Math.abs(bone.stats.accuracy.ci95 - direct.ci95) < 1e-12, 'ci');
  assert.is(bone.params, 4096);
});

test('buildReport writes CSV/Markdown/LaTeX tables, self-contained figures and one report.html with plotly once', () =>
  withTmpDir('bonelab-report', (dir) => {
    const runs = fakeMainTable([0, 1, 2], 'exp');
    for (const r of runs) writeRunResult(runResultPath(dir, r.run_info.variant), r);
    // A leftover from an older grid spec: on disk, but not in grid.json, so not reported.
    const stale = fakeRun({ experiment: 'exp', adapter: { kind: 'bone', r: 64 }, seed: 0, finalLoss: 0.1, accuracy: 0.9, stepMs: 1, peakMb: 1, gradNorm: 1 });
    writeRunResult(runResultPath(dir, stale.run_info.variant), stale);
    writeJsonAtomic(path.join(dir, 'grid.json'), {
      name: 'exp',
      description: 'fake main table',
      claims: ['accuracy', 'bat-time', 'block-size'],
      cells: runs.map((r) => ({ variant: r.run_info.variant, group: '', label: '' })),
    });
    const rep = buildReport(dir);
    assert.equal(rep.ignored, [stale.run_info.variant]);
    assert.is(rep.rows.length, runs.length);
    assert.equal(rep.claims.map((c) => c.id), ['accuracy', 'bat-time', 'block-size']);
    assert.is(rep.claims[2].verdict, 'not measured');

    const csv = fs.readFileSync(path.join(dir, 'tables', 'summary.csv'), 'utf8').trim().split('\n');
    const header = csv[0].split(',');
    assert.ok(header.includes('accuracy_mean') && header.includes('accuracy_ci95') && header.includes('eval_loss_lo'), header.join(','));
    assert.is(csv.length, 1 + 4, 'one row per method');
    const boneRow = csv.find((l) => l.startsWith('bone,'))!.split(',');
    const boneSummary = rep.summary.find((g) => g.kind === 'bone')!;
    assert.ok(Math.abs(Number(boneRow[header.indexOf('accuracy_mean')]) - boneSummary.stats.accuracy.mean) < 1e-12);

    const md = fs.readFileSync(path.join(dir, 'tables', 'summary.md'), 'utf8');
    assert.match(md, /\|method\|r\|lr\|params\|seeds ok\|accuracy \(%\)\|/);
    assert.match(md, /\|bone\|8\|1e-3\|4\.1k\|3\/3\|\d+\.\d ± \d+\.\d\|/);
    const tex = fs.readFileSync(path.join(dir, 'tables', 'summary.tex'), 'utf8');
    assert.match(tex, /\\begin\{tabular\}\{lrrrrrrrrrrr\}/);
    assert.match(tex, /\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    assert.match(tex, /bone & 8 & 1e-3 & 4\.1k & 3\/3 & \d+\.\d \$\\pm\$ \d+\.\d/);
    assert.match(tex, /accuracy \(\\%\)/, 'percent escaped');
    assert.ok(fs.existsSync(path.join(dir, 'tables', 'claims.tex')));

    const figs = fs.readdirSync(path.join(dir, 'figures')).sort();
    assert.equal(figs, ['accuracy-vs-params.html', 'cost.html', 'eval-loss-curves.html', 'grad-norm-vs-rank.html', 'loss-curves-early.html', 'loss-curves.html']);
    const fig = fs.readFileSync(path.join(dir, 'figures', 'loss-curves.html'), 'utf8');
    assert.ok(fig.includes('plotly.js v3.7.0'), 'figure embeds the plotly bundle');
    assert.not.match(fig, /<script[^>]+src=/, 'no external scripts');
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.is(html.split('plotly.js v3.7.0').length - 1, 1, 'plotly embedded exactly once');
    assert.ok(html.includes(plotlyBundleScript()) && fig.includes(plotlyBundleScript()), 'pages embed the shared wrapped bundle');
    assert.is(html.split('Plotly.newPlot("fig-').length - 1, figs.length, 'one plot per figure');
    assert.match(html, /class="l holds">holds</);
    assert.ok(!html.includes(stale.run_info.variant), 'stale run not in the report');
  }),
);

test('seed bands: mean and sample std across seeds at common steps; smoothing is a trailing mean', () => {
  const runs = [0, 1].map((seed) => fakeRun({ adapter: { kind: 'bone', r: 8 }, seed, steps: 6, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 1, gradNorm: 1 }));
  runs[1].train_info.metrics = runs[1].train_info.metrics.slice(0, 4); // seed 1 logged fewer steps
  const b = seedBand(runs, (m) => m.train_loss);
  assert.equal(b.x, [1, 2, 3, 4]);
  const a0 = runs[0].train_info.metrics[2].train_loss;
  const a1 = runs[1].train_info.metrics[2].train_loss;
  assert.ok(Math.abs(b.mean[2] - (a0 + a1) / 2) < 1e-12);
  assert.ok(Math.abs(b.std[2] - Math.abs(a0 - a1) / Math.SQRT2) < 1e-12);
  assert.equal(movingAverage([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5]);
  assert.equal(movingAverage([1, 2, 3], 1), [1, 2, 3]);
});

test('buildReport: an empty results folder is a clear error', () =>
  withTmpDir('bonelab-report', (dir) => {
    assert.throws(() => buildReport(dir), /report: no run results in .*runs/);
    assert.throws(() => buildReport(path.join(dir, 'nope')), /report: no results folder/);
  }),
);

test.run();
