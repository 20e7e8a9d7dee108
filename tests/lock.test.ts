import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { breakStaleLock, releaseLock, tryLock } from '../lib/util/lock';
import { withTmpDir } from './util';

/** The pid of a process that has exited (so it is dead). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(r.pid && r.pid > 0);
  return r.pid as number;
}

test('tryLock: exclusive while the holder lives, released only by its holder', () =>
  withTmpDir('bonelab-lock', (dir) => {
    const lock = path.join(dir, 'x.lock');
    assert.equal(tryLock(lock), { ok: true });
    assert.is(fs.readFileSync(lock, 'utf8'), String(process.pid));
    assert.equal(tryLock(lock), { ok: false, holder: process.pid }, 'a live holder (this process) keeps it');
    releaseLock(lock);
    assert.not.ok(fs.existsSync(lock));
    fs.writeFileSync(lock, String(process.ppid));
    releaseLock(lock);
    assert.ok(fs.existsSync(lock), "another process's lock is not released");
  }),
);

test('tryLock breaks stale locks: dead holder, too old, unreadable content; a lock being written is left alone', () =>
  withTmpDir('bonelab-lock', (dir) => {
    const lock = path.join(dir, 'x.lock');
    const stale = (text: string, ageH = 0): void => {
      fs.writeFileSync(lock, text);
      const t = (Date.now() - ageH * 3.6e6) / 1000;
      fs.utimesSync(lock, t, t);
    };
    for (const [text, ageH] of [[String(deadPid()), 0], [String(process.ppid), 7], ['garbage', 0], ['', 1]] as const) {
      stale(text, ageH);
      assert.equal(tryLock(lock), { ok: true }, `stale lock '${text}' aged ${ageH} h`);
      assert.is(fs.readFileSync(lock, 'utf8'), String(process.pid));
      releaseLock(lock);
    }
    stale(String(process.ppid), 1);
    assert.equal(tryLock(lock, { maxAgeH: 2 }), { ok: false, holder: process.ppid }, 'live and younger than maxAgeH');
    stale('');
    assert.is(tryLock(lock).ok, false, 'an empty lock younger than 10 s is being written');
    assert.equal(fs.readdirSync(dir), ['x.lock'], 'no break-* files left behind');
  }),
);

test('breakStaleLock keeps a lock that changed since it was judged stale', () =>
  withTmpDir('bonelab-lock', (dir) => {
    const lock = path.join(dir, 'x.lock');
    fs.writeFileSync(lock, '12345'); // another waiter broke the stale '999' and took it
    breakStaleLock(lock, '999');
    assert.is(fs.readFileSync(lock, 'utf8'), '12345');
    breakStaleLock(lock, '12345');
    assert.not.ok(fs.existsSync(lock));
    breakStaleLock(lock, '12345'); // already gone: nothing to do
    assert.equal(fs.readdirSync(dir), []);
  }),
);

test('tryLock: of several processes racing for a stale lock, exactly one wins', () =>
  withTmpDir('bonelab-lock', async (dir) => {
    const lock = path.join(dir, 'x.lock');
    fs.writeFileSync(lock, String(deadPid()));
    const mod = path.resolve(__dirname, '../lib/util/lock.ts');
    // each child waits for the same start time, tries once, and holds what it got until all have tried
    const start = Date.now() + 1500;
    const src = `const l=require(${JSON.stringify(mod)});setTimeout(()=>{const r=l.tryLock(${JSON.stringify(lock)});console.log(JSON.stringify(r));setTimeout(()=>{},500)},${start}-Date.now())`;
    const runs = Array.from({ length: 4 }, () =>
      new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.on('error', reject);
        c.on('close', () => resolve(out.trim()));
      }),
    );
    const results = (await Promise.all(runs)).map((o) => JSON.parse(o) as { ok: boolean });
    assert.is(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
  }),
);

test.run();
