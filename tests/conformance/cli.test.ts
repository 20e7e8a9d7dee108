/** `bonelab conformance <dir>`: one line per vector, last line exactly `N passed, N failed`, exit 1 on any failure. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHARED, withTmpDir } from '../util';

const ROOT = path.resolve(__dirname, '..', '..');
const VECTORS = path.join(SHARED, 'conformance', 'vectors');

function cli(...args: string[]): { code: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'bonelab.ts'), 'conformance', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, lines: r.stdout.trim().split('\n') };
}

test('the shared vectors: one PASS line each, then "18 passed, 0 failed", exit 0', () => {
  const n = fs.readdirSync(VECTORS).filter((f) => f.endsWith('.json')).length;
  const { code, lines } = cli(VECTORS);
  assert.is(lines[lines.length - 1], `${n} passed, 0 failed`);
  assert.is(lines.filter((l) => / PASS /.test(l)).length, n);
  assert.is(code, 0);
});

test('a folder with a wrong vector: its FAIL line names the field, exit 1', () =>
  withTmpDir('bonelab-conf', (dir) => {
    const v = JSON.parse(fs.readFileSync(path.join(VECTORS, 'miss_mini_16x24_r4_minir4.json'), 'utf8'));
    v.expected.delta_weight[0][0] += 1;
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(v));
    fs.copyFileSync(path.join(VECTORS, 'lora_16x24_r4_a8.json'), path.join(dir, 'good.json'));
    const { code, lines } = cli(dir);
    assert.is(lines[lines.length - 1], '1 passed, 1 failed');
    assert.match(lines.find((l) => l.startsWith(v.id)) ?? '', /FAIL .*delta_weight: relative error/);
    assert.is(code, 1);
  }),
);

test.run();
