import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gitSha } from '../../lib/results/meta';
import { readRunResult, readRunResults } from '../../lib/results/read';
import { experimentDir, failedRunResult, runResultPath, writeRunResult } from '../../lib/results/write';
import { fakeConfig, fakeRun } from '../report/fake-runs';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-results-'));
}

test('write then read back: identical, NaN becomes null, layout results/<experiment>/runs/<variant>.json', () => {
  const root = tmp();
  try {
    const r = fakeRun({ experiment: 'e1', adapter: { kind: 'bone', r: 8 }, seed: 1, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 100, gradNorm: 2 });
    const file = runResultPath(experimentDir(root, 'e1'), r.run_info.variant);
    assert.is(file, path.join(root, 'e1', 'runs', 'bone-r8-lr1e-3-s1.json'));
    writeRunResult(file, r);
    assert.equal(readRunResult(file), JSON.parse(JSON.stringify(r)));
    const failed = failedRunResult(fakeConfig({ adapter: { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false }, seed: 0 }, 'lora-r4-lr1e-3-s0'), 'failed', 'worker exited with code 1: boom');
    const f2 = runResultPath(experimentDir(root, 'e1'), 'lora-r4-lr1e-3-s0');
    writeRunResult(f2, failed);
    const back = readRunResult(f2)!;
    assert.is(back.train_info.status, 'failed');
    assert.is(back.run_info.error_msg, 'worker exited with code 1: boom');
    assert.is(back.train_info.step_ms_median as unknown, null, 'NaN is written as null');
    assert.is(back.run_info.git_sha, gitSha());
    assert.is(back.meta_info.node_version, process.version);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the writer refuses malformed results and unsafe names, naming the problem', () => {
  const root = tmp();
  try {
    const r = fakeRun({ adapter: { kind: 'bone', r: 8 }, seed: 0, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 100, gradNorm: 2 });
    const file = path.join(root, 'x.json');
    assert.throws(() => writeRunResult(file, { ...r, train_info: { ...r.train_info, status: 'great' as never } }), /x\.json: not a run result: train_info\.status "great" is not one of ok, diverged, failed, cancelled/);
    assert.throws(() => writeRunResult(file, { ...r, train_info: { ...r.train_info, final: null } }), /status ok but train_info\.final is null/);
    assert.throws(() => writeRunResult(file, { ...r, meta_info: undefined as never }), /missing meta_info/);
    assert.not.ok(fs.existsSync(file), 'nothing written');
    assert.throws(() => runResultPath(root, '../escape'), /variant "\.\.\/escape" is not a safe file name/);
    assert.throws(() => experimentDir(root, 'a b'), /experiment name "a b" is not a safe folder name/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('readRunResults lists unreadable files as problems and skips them', () => {
  const root = tmp();
  try {
    const dir = experimentDir(root, 'e');
    const r = fakeRun({ adapter: { kind: 'bone', r: 8 }, seed: 0, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 100, gradNorm: 2 });
    writeRunResult(runResultPath(dir, r.run_info.variant), r);
    fs.writeFileSync(path.join(dir, 'runs', 'half.json'), '{"run_info": {');
    fs.writeFileSync(path.join(dir, 'runs', 'other.json'), '{"hello": 1}');
    const { results, problems } = readRunResults(dir);
    assert.is(results.length, 1);
    assert.equal(problems.map((p) => path.basename(p.file)).sort(), ['half.json', 'other.json']);
    assert.match(problems.find((p) => p.file.endsWith('other.json'))!.error, /not a run result: missing run_info/);
    assert.is(readRunResult(path.join(dir, 'runs', 'half.json')), null);
    assert.equal(readRunResults(path.join(root, 'none')), { results: [], problems: [] });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test.run();
