/**
 * The test command. Runs every `tests/**\/*.test.ts` with uvu on the default (wasm) backend, then every
 * `*.backends.test.ts` again on the cpu backend, and ends with the line `N passed, N failed`.
 * Usage: npm test [-- <pattern>]   (pattern: a regex on the file path, e.g. `adapters`)
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
const filter = process.argv[2];

function runUvu(pattern: string, backend: string): { passed: number; failed: number; ok: boolean } {
  const res = spawnSync(process.execPath, ['--import', 'tsx', uvu, 'tests', pattern], {
    cwd: root,
    env: { ...process.env, BONELAB_BACKEND: backend, TZ: 'UTC', FORCE_COLOR: '0' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = (res.stdout ?? '') + (res.stderr ?? '');
  process.stdout.write(out);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  if (!Number.isFinite(total) || !Number.isFinite(passed)) {
    // uvu crashed before its summary (e.g. a syntax error): count the whole run as one failure.
    return { passed: 0, failed: 1, ok: false };
  }
  return { passed, failed: total - passed, ok: res.status === 0 };
}

const sel = filter ? `(?=.*${filter}).*\\.test\\.ts$` : '.*\\.test\\.ts$';
const selBoth = filter ? `(?=.*${filter}).*\\.backends\\.test\\.ts$` : '.*\\.backends\\.test\\.ts$';
console.log(`# backend wasm: tests matching ${sel}`);
const a = runUvu(sel, 'wasm');
console.log(`# backend cpu: tests matching ${selBoth}`);
const b = runUvu(selBoth, 'cpu');
const passed = a.passed + b.passed;
const failed = a.failed + b.failed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || !a.ok || !b.ok ? 1 : 0);
