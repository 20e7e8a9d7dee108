import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runGrid, type CellRunner } from '../../lib/experiments/grid';
import { expandGrid, type GridSpec } from '../../lib/experiments/grid-spec';
import { processRunner } from '../../lib/experiments/worker-process';
import { readRunResult, readRunResults } from '../../lib/results/read';
import { runResultPath, writeRunResult } from '../../lib/results/write';
import { fakeRun } from '../report/fake-runs';
import { withTmpDir } from '../util';

const FAKE_WORKER = [process.execPath, '--import', 'tsx', path.join(__dirname, 'fake-worker.ts')];

/** An in-process runner that writes a plausible result and counts its calls; `fail` names variants that throw. */
function countingRunner(fail: string[] = []): { runner: CellRunner; calls: string[] } {
  const calls: string[] = [];
  const runner: CellRunner = async (cell, ctx) => {
    calls.push(cell.variant);
    if (fail.includes(cell.variant)) throw new Error(`simulated failure of ${cell.variant}`);
    ctx.onProgress(cell.config.steps);
    const r = fakeRun({ adapter: cell.config.adapter, seed: cell.config.seed, steps: cell.config.steps, finalLoss: 1, accuracy: 0.4, stepMs: 10, peakMb: 100, gradNorm: 1 });
    r.run_info = { ...r.run_info, experiment: cell.config.name, variant: cell.variant, config: cell.config };
    writeRunResult(ctx.outFile, r);
  };
  return { runner, calls };
}

const SPEC: GridSpec = { name: 'g', base: { steps: 8 }, axes: { method: ['bone', 'lora'], seed: [0, 1, 2] } };
const quiet = { quiet: true, log: () => undefined };

test('resume: finished runs are not redone; a missing or stale result is', () =>
  withTmpDir('bonelab-grid', async (root) => {
    const cells = expandGrid(SPEC);
    const a = countingRunner();
    const s1 = await runGrid(SPEC, cells, { resultsRoot: root, runner: a.runner, jobs: 2, ...quiet });
    assert.is(a.calls.length, 6);
    assert.equal([s1.ran, s1.skipped, s1.counts.ok], [6, 0, 6]);
    const b = countingRunner();
    const s2 = await runGrid(SPEC, cells, { resultsRoot: root, runner: b.runner, ...quiet });
    assert.is(b.calls.length, 0, 'second invocation runs nothing');
    assert.equal([s2.ran, s2.skipped, s2.counts.ok], [0, 6, 6]);
    fs.rmSync(runResultPath(path.join(root, 'g'), 'lora-r8-lr1e-3-s1'));
    const c = countingRunner();
    await runGrid(SPEC, cells, { resultsRoot: root, runner: c.runner, ...quiet });
    assert.equal(c.calls, ['lora-r8-lr1e-3-s1']);
    // Same names, different config (more steps): every result is stale.
    const d = countingRunner();
    await runGrid(SPEC, expandGrid(SPEC, [{ steps: 9 }]), { resultsRoot: root, runner: d.runner, ...quiet });
    assert.is(d.calls.length, 6);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'g', 'grid.json'), 'utf8'));
    assert.is(manifest.cells.length, 6);
  }),
);

test('a failing cell is recorded as failed and the others still run; failed cells rerun only with retryFailed', () =>
  withTmpDir('bonelab-grid', async (root) => {
    const cells = expandGrid(SPEC);
    const a = countingRunner(['bone-r8-lr1e-3-s1']);
    const s = await runGrid(SPEC, cells, { resultsRoot: root, runner: a.runner, jobs: 1, ...quiet });
    assert.is(a.calls.length, 6, 'grid went on after the failure');
    assert.equal([s.counts.ok, s.counts.failed], [5, 1]);
    const failed = readRunResult(runResultPath(path.join(root, 'g'), 'bone-r8-lr1e-3-s1'))!;
    assert.is(failed.train_info.status, 'failed');
    assert.is(failed.run_info.error_msg, 'simulated failure of bone-r8-lr1e-3-s1');
    assert.equal(failed.run_info.config, cells.find((c) => c.variant === 'bone-r8-lr1e-3-s1')!.config);
    const b = countingRunner();
    await runGrid(SPEC, cells, { resultsRoot: root, runner: b.runner, ...quiet });
    assert.is(b.calls.length, 0, 'failed run not retried by default');
    const c = countingRunner();
    const s3 = await runGrid(SPEC, cells, { resultsRoot: root, runner: c.runner, retryFailed: true, ...quiet });
    assert.equal(c.calls, ['bone-r8-lr1e-3-s1']);
    assert.equal([s3.counts.ok, s3.counts.failed], [6, 0]);
  }),
);

test('cancelling stops the grid without recording the interrupted run; resuming finishes the rest', () =>
  withTmpDir('bonelab-grid', async (root) => {
    const cells = expandGrid(SPEC);
    const ctrl = new AbortController();
    const done: string[] = [];
    const inner = countingRunner();
    const runner: CellRunner = async (cell, ctx) => {
      if (done.length === 2) {
        ctrl.abort(); // "kill" the grid while this run is in flight
        if (!ctx.signal.aborted) await new Promise((res) => ctx.signal.addEventListener('abort', res));
        return;
      }
      await inner.runner(cell, ctx);
      done.push(cell.variant);
    };
    const s = await runGrid(SPEC, cells, { resultsRoot: root, runner, jobs: 1, signal: ctrl.signal, ...quiet });
    assert.equal([s.ran, s.cancelled], [2, 4]);
    assert.is(readRunResults(path.join(root, 'g')).results.length, 2, 'nothing written for the interrupted run');
    const rest = countingRunner();
    await runGrid(SPEC, cells, { resultsRoot: root, runner: rest.runner, ...quiet });
    assert.is(rest.calls.length, 4);
    assert.ok(!rest.calls.some((v) => done.includes(v)));
  }),
);

test('worker processes: a crashed worker is a failed run with the stderr tail, the others finish; progress is reported', () =>
  withTmpDir('bonelab-grid', async (root) => {
    const spec: GridSpec = { name: 'p', base: { steps: 5 }, axes: { method: ['bone', { kind: 'lora', label: 'crash' }, { kind: 'lora', label: 'diverge' }] } };
    const cells = expandGrid(spec);
    const progress: number[] = [];
    const inner = processRunner({ command: FAKE_WORKER });
    const runner: CellRunner = (cell, ctx) => inner(cell, { ...ctx, onProgress: (step, st) => (progress.push(step), ctx.onProgress(step, st)) });
    const lines: string[] = [];
    const s = await runGrid(spec, cells, { resultsRoot: root, runner, jobs: 2, quiet: true, log: (l) => lines.push(l) });
    assert.equal([s.counts.ok, s.counts.failed, s.counts.diverged], [1, 1, 1]);
    const crash = readRunResult(runResultPath(path.join(root, 'p'), 'crash-r8-lr1e-3-s0'))!;
    assert.is(crash.train_info.status, 'failed');
    assert.match(crash.run_info.error_msg!, /^worker exited with code 3: loading\.\.\.\nboom: simulated crash in crash-r8-lr1e-3-s0$/);
    assert.ok(progress.includes(5), `progress lines parsed: ${progress.join(',')}`);
    assert.ok(lines.some((l) => /failed\s+crash-r8-lr1e-3-s0 .*boom: simulated crash/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /ok\s+bone-r8-lr1e-3-s0\s+loss \d\.\d{3}\s+eval \d\.\d{3}\s+acc \d+\.\d%/.test(l)), lines.join('\n'));
    assert.not.ok(fs.existsSync(path.join(root, 'p', '.grid.lock')), 'lock released');
  }),
);

test('worker processes: a hung run is killed at the cell timeout and recorded as failed', () =>
  withTmpDir('bonelab-grid', async (root) => {
    const spec: GridSpec = { name: 't', base: { steps: 3 }, axes: { method: [{ kind: 'bone', label: 'hang' }] } };
    const s = await runGrid(spec, expandGrid(spec), { resultsRoot: root, runner: processRunner({ command: FAKE_WORKER }), cellTimeoutS: 2, ...quiet });
    assert.is(s.counts.failed, 1);
    const r = readRunResult(runResultPath(path.join(root, 't'), 'hang-r8-lr1e-3-s0'))!;
    assert.is(r.run_info.error_msg, 'timed out after 2 s');
  }),
);

test('atomic writes: a writer killed mid-write leaves the previous complete result, and leftovers are ignored', () =>
  withTmpDir('bonelab-grid', async (root) => {
    const file = runResultPath(path.join(root, 'a'), 'bone-r8-lr1e-3-s0');
    // The child writes one result, then is killed (SIGKILL, as by the OOM killer) half-way through writing a second:
    // its fs.writeFileSync writes the first half of the bytes and kills the process.
    const script = `
      const fs = require('node:fs');
      const real = fs.writeFileSync;
      let calls = 0;
      fs.writeFileSync = (f, data, ...rest) => {
        if (++calls === 2) { real(f, String(data).slice(0, String(data).length >> 1)); process.kill(process.pid, 'SIGKILL'); }
        return real(f, data, ...rest);
      };
      const { writeRunResult } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/results/write'))});
      const { fakeRun } = require(${JSON.stringify(path.resolve(__dirname, '../report/fake-runs'))});
      const run = (steps) => fakeRun({ adapter: { kind: 'bone', r: 8 }, seed: 0, steps, finalLoss: 1, accuracy: 0.4, stepMs: 10, peakMb: 100, gradNorm: 1 });
      writeRunResult(${JSON.stringify(file)}, run(7));
      writeRunResult(${JSON.stringify(file)}, run(9));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'inherit' });
    const [, signal] = await new Promise<[number | null, string | null]>((res) => child.once('close', (c, sig) => res([c, sig])));
    assert.is(signal, 'SIGKILL', 'the writer died mid-write');
    const r = readRunResult(file);
    assert.ok(r !== null, 'the result file is still valid JSON');
    assert.is(r!.train_info.metrics.length, 7, 'and it is the previous complete version');
    const names = fs.readdirSync(path.dirname(file));
    assert.ok(names.some((n) => n.includes('.json.tmp-')), `the half-written temporary is left aside: ${names.join(', ')}`);
    const listed = readRunResults(path.join(root, 'a'));
    assert.equal([listed.results.length, listed.problems.length], [1, 0], 'temporary files are not read as results');
    // A grid on that folder clears the leftover.
    const spec: GridSpec = { name: 'a', base: { steps: 3 }, axes: {} };
    await runGrid(spec, expandGrid(spec), { resultsRoot: root, runner: countingRunner().runner, ...quiet });
    assert.not.ok(fs.readdirSync(path.dirname(file)).some((n) => n.includes('.json.tmp-')), 'leftover removed');
  }),
);

test.run();
