import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run as reportCli } from '../../lib/cli/report';
import { run as gridCli } from '../../lib/cli/grid';
import { runResultPath, writeRunResult } from '../../lib/results/write';
import { fakeMainTable } from './fake-runs';
import { captureConsole, rejects, withTmpDir } from '../util';

/** Run a subcommand with the console captured: its exit code and stdout. */
async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const { result, out } = await captureConsole(fn);
  return { code: result, out: out.replace(/\n$/, '') };
}

test('bonelab report <results root>: reports every experiment folder and prints summary, verdicts and paths', () =>
  withTmpDir('bonelab-cli', async (root) => {
    for (const name of ['a', 'b']) for (const r of fakeMainTable([0, 1], name)) writeRunResult(runResultPath(path.join(root, name), r.run_info.variant), r);
    const { code, out } = await capture(() => reportCli([root]));
    assert.is(code, 0);
    assert.match(out, /== a ==[\s\S]*== b ==/);
    assert.match(out, /method\s+r\s+lr\s+params\s+seeds ok\s+accuracy \(%\)/);
    assert.match(out, /^bone\s+8\s+1e-3\s+4\.1k\s+2\/2\s+\d+\.\d ± \d+\.\d/m);
    assert.match(out, /Paper versus kit/);
    assert.match(out, /report\.html\s+tables, verdicts and \d figures in one offline page/);
    assert.ok(fs.existsSync(path.join(root, 'a', 'report.html')) && fs.existsSync(path.join(root, 'b', 'tables', 'summary.tex')));
    await rejects(() => reportCli([path.join(root, 'nope')]), /report: .*nope is not a folder/);
    assert.is((await capture(() => reportCli([]))).code, 2, 'usage without arguments');
  }),
);

test('bonelab grid --list expands an experiment file; bad options are clear errors', async () => {
  const { code, out } = await capture(() => gridCli(['main', '--preset', 'smoke', '--list']));
  assert.is(code, 0);
  assert.match(out, /^bone-r8-lr3e-3-s0 {2}\(4 steps\)$/m);
  assert.match(out, /^full-lr5e-4-s1 {2}\(4 steps\)$/m);
  assert.match(out, /^10 runs$/m);
  await rejects(() => gridCli(['main', '--jobs', '0']), /grid: --jobs must be a positive integer, got '0'/);
  await rejects(() => gridCli(['nope-experiment', '--list']), /experiment "nope-experiment": neither a file nor one of experiments\/\*\.json \(.*main.*\)/);
  await rejects(() => gridCli(['main', '--preset', 'huge', '--list']), /no preset "huge" \(has: smoke, quick, full\)/);
  await rejects(() => gridCli(['main', '--list', '--set', 'optimizer.lr=fast']), /experiment main: optimizer\.lr: expected number, got "fast"/);
});

test('every experiment file expands in every preset (except real-checkpoint, which needs a checkpoint folder)', async () => {
  const { listExperimentFiles, readExperimentFile, findExperimentFile, applyPreset, expandGrid } = await import('../../lib/experiments/grid-spec');
  const names = listExperimentFiles();
  for (const want of ['main', 'main-table', 'block-size', 'convergence', 'bone-vs-bat', 'learning-rate', 'real-checkpoint', 'main-table-rwkv6']) assert.ok(names.includes(want), `experiments/${want}.json`);
  for (const name of names) {
    const file = readExperimentFile(findExperimentFile(name));
    for (const preset of ['smoke', 'quick', 'full']) {
      const spec = applyPreset(file, preset);
      if (name === 'real-checkpoint') {
        assert.throws(() => expandGrid(spec), /model\.source: no checkpoint folder at "checkpoints\/llama"/);
        continue;
      }
      const cells = expandGrid(spec);
      assert.ok(cells.length >= 2, `${name}/${preset}`);
      const seeds = new Set(cells.map((c) => c.config.seed));
      if (preset !== 'smoke') assert.ok(seeds.size >= 3, `${name}/${preset}: at least 3 seeds`);
    }
  }
});

test.run();
