import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitSha } from '../../lib/results/meta';
import { parseRunResult, readCurrentRunResults, readRunResult, readRunResults } from '../../lib/results/read';
import { experimentDir, failedRunResult, runResultPath, writeRunResult } from '../../lib/results/write';
import { fakeConfig, fakeRun } from '../report/fake-runs';
import { withTmpDir } from '../util';

test('write then read back: identical, NaN becomes null, layout results/<experiment>/runs/<variant>.json', () =>
  withTmpDir('bonelab-results', (root) => {
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
  }),
);

test('the writer refuses malformed results and unsafe names, naming the problem', () =>
  withTmpDir('bonelab-results', (root) => {
    const r = fakeRun({ adapter: { kind: 'bone', r: 8 }, seed: 0, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 100, gradNorm: 2 });
    const file = path.join(root, 'x.json');
    assert.throws(() => writeRunResult(file, { ...r, train_info: { ...r.train_info, status: 'great' as never } }), /x\.json: not a run result: train_info\.status "great" is not one of ok, diverged, failed, cancelled/);
    assert.throws(() => writeRunResult(file, { ...r, train_info: { ...r.train_info, final: null } }), /status ok but train_info\.final is null/);
    assert.throws(() => writeRunResult(file, { ...r, meta_info: undefined as never }), /missing meta_info/);
    assert.not.ok(fs.existsSync(file), 'nothing written');
    assert.throws(() => runResultPath(root, '../escape'), /variant "\.\.\/escape" is not a safe file name/);
    assert.throws(() => experimentDir(root, 'a b'), /experiment name "a b" is not a safe folder name/);
  }),
);

test('readRunResults lists unreadable files as problems and skips them', () =>
  withTmpDir('bonelab-results', (root) => {
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
  }),
);

test('parseRunResult throws naming the file and the reason; readRunResult turns that into null', () =>
  withTmpDir('bonelab-results', (root) => {
    const missing = path.join(root, 'missing.json');
    assert.throws(() => parseRunResult(missing), /missing\.json: no such result file/);
    const half = path.join(root, 'half.json');
    fs.writeFileSync(half, '{"run_info": {');
    assert.throws(() => parseRunResult(half), /half\.json: not valid JSON/);
    const bad = path.join(root, 'bad.json');
    fs.writeFileSync(bad, '{"hello": 1}');
    assert.throws(() => parseRunResult(bad), /bad\.json: not a run result: missing run_info/);
    for (const f of [missing, half, bad]) assert.is(readRunResult(f), null);
    const r = fakeRun({ adapter: { kind: 'bone', r: 8 }, seed: 0, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 100, gradNorm: 2 });
    const good = writeRunResult(path.join(root, 'good.json'), r);
    assert.equal(parseRunResult(good), JSON.parse(JSON.stringify(r)));
  }),
);

test('readCurrentRunResults keeps the cells grid.json lists and names the others; no manifest keeps all', () =>
  withTmpDir('bonelab-results', (root) => {
    const dir = experimentDir(root, 'e');
    const runs = [0, 1, 2].map((seed) => fakeRun({ adapter: { kind: 'bone', r: 8 }, seed, finalLoss: 1, accuracy: 0.5, stepMs: 10, peakMb: 100, gradNorm: 2 }));
    for (const r of runs) writeRunResult(runResultPath(dir, r.run_info.variant), r);
    fs.writeFileSync(path.join(dir, 'runs', 'half.json'), '{');
    const all = readCurrentRunResults(dir);
    assert.equal(all.results.map((r) => r.run_info.variant), ['bone-r8-lr1e-3-s0', 'bone-r8-lr1e-3-s1', 'bone-r8-lr1e-3-s2']);
    assert.equal(all.ignored, []);
    assert.is(all.problems.length, 1);
    fs.writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ cells: [{ variant: 'bone-r8-lr1e-3-s2' }, { variant: 'bone-r8-lr1e-3-s0' }, { variant: 'not-run-yet-lr1e-3-s0' }] }));
    const cur = readCurrentRunResults(dir);
    assert.equal(cur.results.map((r) => r.run_info.variant), ['bone-r8-lr1e-3-s0', 'bone-r8-lr1e-3-s2']);
    assert.equal(cur.ignored, ['bone-r8-lr1e-3-s1']);
    assert.is(cur.problems.length, 1);
    fs.writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ name: 'e' }));
    assert.throws(() => readCurrentRunResults(dir), /grid\.json: field cells must be an array/);
  }),
);

test('gitSha follows a .git file (linked worktree, submodule) to its gitdir', () =>
  withTmpDir('bonelab-results', (root) => {
    const sha = (c: string) => c.repeat(40);
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    };
    // Main checkout: branch main as a loose ref, branch feature only in packed-refs.
    const main = path.join(root, 'main');
    write(path.join(main, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    write(path.join(main, '.git', 'refs', 'heads', 'main'), `${sha('a')}\n`);
    write(path.join(main, '.git', 'packed-refs'), `# pack-refs with: peeled\n${sha('b')} refs/heads/feature\n`);
    assert.is(gitSha(main), sha('a'));
    // Linked worktree on feature: .git is a file with a relative gitdir; refs live in the common dir.
    const wt = path.join(root, 'wt');
    write(path.join(wt, '.git'), 'gitdir: ../main/.git/worktrees/wt\n');
    write(path.join(main, '.git', 'worktrees', 'wt', 'HEAD'), 'ref: refs/heads/feature\n');
    write(path.join(main, '.git', 'worktrees', 'wt', 'commondir'), '../..\n');
    assert.is(gitSha(wt), sha('b'));
    // Submodule with a detached HEAD and an absolute gitdir.
    const sub = path.join(root, 'sub');
    write(path.join(sub, '.git'), `gitdir: ${path.join(main, '.git', 'modules', 'sub')}\n`);
    write(path.join(main, '.git', 'modules', 'sub', 'HEAD'), `${sha('c')}\n`);
    assert.is(gitSha(sub), sha('c'));
    // Not a checkout, or a .git file without a gitdir line.
    assert.is(gitSha(path.join(root, 'nothing')), null);
    write(path.join(root, 'broken', '.git'), 'hello\n');
    assert.is(gitSha(path.join(root, 'broken')), null);
  }),
);

test.run();
