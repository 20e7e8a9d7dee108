/**
 * The project-local kernelspec: the command Jupyter runs must start tslab's kernel at the project root (so notebooks
 * import ./lib/...) with the connection file Jupyter substitutes, whatever folder Jupyter launches it from.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installKernelSpec, kernelSpecFor, type KernelSpec } from '../../lib/notebook/kernelspec';
import { PROJECT_ROOT } from '../../lib/notebook/runner';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-kernel-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('install writes <prefix>/share/jupyter/kernels/tslab/kernel.json', () => {
  const file = installKernelSpec(PROJECT_ROOT, path.join(tmp, 'prefix'));
  assert.is(file, path.join(tmp, 'prefix', 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json'));
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as KernelSpec;
  assert.is(spec.language, 'typescript');
  assert.is(spec.argv.filter((a) => a === '{connection_file}').length, 1);
});

test('the kernel command runs at the project root with tslab `kernel --config-path <connection file>`', () => {
  // Stand-in for tslab's bin: report the working directory and arguments it was started with.
  const probe = path.join(tmp, 'probe.js');
  fs.writeFileSync(probe, 'console.log(JSON.stringify({ cwd: process.cwd(), args: process.argv.slice(2) }));\n');
  const spec = kernelSpecFor(PROJECT_ROOT);
  const tslabBin = path.join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab');
  assert.ok(spec.argv.includes(tslabBin), 'starts the project-pinned tslab');
  const conn = path.join(tmp, 'kernel-1 with space.json');
  const argv = spec.argv.map((a) => (a === '{connection_file}' ? conn : a === tslabBin ? probe : a));
  const res = spawnSync(argv[0], argv.slice(1), { cwd: os.tmpdir(), encoding: 'utf8' });
  assert.is(res.status, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout), { cwd: PROJECT_ROOT, args: ['kernel', '--config-path', conn] });
});

test('a missing tslab install is reported with the path', () => {
  assert.throws(() => kernelSpecFor(tmp), /tslab is not installed under .*missing .*tslab/);
});

test.run();
