/** Usage errors the subcommands catch before doing any work: conflicting flags, blank or out-of-range numbers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { captureConsole, setupBackend } from '../util';
import { run as benchCli } from '../../lib/cli/bench';
import { run as notebooksCli } from '../../lib/cli/notebooks';
import { run as pretrainCli } from '../../lib/cli/pretrain';
import { run as gridCli } from '../../lib/cli/grid';

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

test('notebooks --timeout: a blank, negative or non-numeric value is a usage error (exit 2) naming the value', async () => {
  for (const v of ['', '-1', 'soon']) {
    const r = await capture(() => notebooksCli([`--timeout=${v}`]));
    assert.is(r.code, 2, `--timeout '${v}'`);
    assert.is(r.err, `notebooks: --timeout must be a number >= 0, got '${v}'\n`);
    assert.is(r.out, '', 'no notebook run');
  }
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
