/** Usage errors the subcommands catch before doing any work: conflicting flags, blank or out-of-range numbers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { captureConsole, setupBackend } from '../util';
import { run as benchCli } from '../../lib/cli/bench';
import { run as notebooksCli } from '../../lib/cli/notebooks';
import { run as pretrainCli } from '../../lib/cli/pretrain';
import { run as gridCli } from '../../lib/cli/grid';

const ROOT = path.resolve(__dirname, '..', '..');

test.before(async () => {
  await setupBackend();
});

/** Run a command with the console captured; a thrown error is returned as its message. */
async function capture(fn: () => Promise<number>): Promise<{ code: number | null; out: string; err: string; thrown: string | null }> {
  try {
    const { result, out, err } = await captureConsole(fn);
    return { code: result, out, err, thrown: null };
  } catch (e) {
    return { code: null, out: '', err: '', thrown: (e as Error).message };
  }
}

test('bench: --layer-only with --no-layer is a usage error (exit 2), not a silent success', async () => {
  const r = await capture(() => benchCli(['--layer-only', '--no-layer']));
  assert.is(r.code, 2);
  assert.is(r.out, '', 'nothing benchmarked');
  assert.ok(r.err.startsWith('bench: --layer-only and --no-layer together leave nothing to run\n'), r.err);
  assert.match(r.err, /usage: bonelab bench /);
});

test('notebooks --timeout: a blank, negative or non-numeric value is a usage error naming the value', async () => {
  for (const v of ['', '-1', 'soon']) {
    const r = await capture(() => notebooksCli([`--timeout=${v}`]));
    assert.is(r.thrown, `notebooks: --timeout must be a number >= 0, got '${v}'`);
  }
});

test('the bonelab command exits 2 for a bad option value (as for an unknown option) and 1 for a failure while working', () => {
  const bonelab = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'bonelab.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const bad = bonelab('notebooks', '--timeout=soon');
  assert.is(bad.status, 2, bad.stderr);
  assert.is(bad.stderr.trim(), "bonelab: notebooks: --timeout must be a number >= 0, got 'soon'");
  assert.is(bonelab('grid', 'main', '--jobs', '0', '--list').status, 2);
  const failed = bonelab('report', path.join(ROOT, 'no-such-results-folder'));
  assert.is(failed.status, 1, failed.stderr);
  assert.match(failed.stderr, /report: .*no-such-results-folder is not a folder/);
});

test('grid --timeout must be a number > 0 (blank is not 0); pretrain --steps must be a positive integer', async () => {
  for (const v of ['', '0', '-2', 'x']) {
    const r = await capture(() => gridCli(['main', `--timeout=${v}`, '--list']));
    assert.is(r.thrown, `grid: --timeout must be a number > 0, got '${v}'`);
  }
  const ok = await capture(() => gridCli(['main', '--preset', 'smoke', '--timeout', '1.5', '--list']));
  assert.is(ok.code, 0, 'a fractional timeout is fine');
  const p = await capture(() => pretrainCli(['--steps', '0']));
  assert.is(p.thrown, "pretrain: --steps must be a positive integer, got '0'");
});

test.run();
