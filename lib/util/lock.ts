/**
 * Advisory lock files holding the owner's pid, for work two processes must not do at once (building one cached base,
 * running one grid folder). Taking a lock is an exclusive create, so two processes can never both succeed; a lock whose
 * owner is dead (or older than maxAgeH, since a recycled pid could keep a dead owner's lock alive) is broken.
 */
import * as fs from 'node:fs';

/** ok, or the pid of the live holder (0 while a new lock's pid is being written). Not a union: tslab compiles lib/
 * without strictNullChecks, where `!r.ok` does not narrow one. */
export interface LockResult {
  ok: boolean;
  holder?: number;
}

/** A process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove a lock judged stale from its content `staleText`, unless it changed since: another waiter may have broken
 * it and taken a fresh one in between, and deleting by name would remove that live lock too. A rename is atomic, so
 * one waiter gets the file; a fresh lock taken by mistake is linked back (the link fails only if a newer lock exists,
 * which then stays the one lock).
 */
export function breakStaleLock(file: string, staleText: string): void {
  const mine = `${file}.break-${process.pid}`;
  try {
    fs.renameSync(file, mine);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it
    throw e;
  }
  try {
    if (fs.readFileSync(mine, 'utf8') !== staleText) fs.linkSync(mine, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

/** Take `file` as a lock for this process, or report the live process holding it. */
export function tryLock(file: string, opts: { maxAgeH?: number } = {}): LockResult {
  const maxAgeH = opts.maxAgeH ?? 6;
  let holder = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return { ok: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text: string;
    let ageS: number;
    try {
      text = fs.readFileSync(file, 'utf8');
      ageS = (Date.now() - fs.statSync(file).mtimeMs) / 1000;
    } catch {
      continue; // released between our attempt and the read: try again
    }
    if (text === '' && ageS < 10) return { ok: false, holder: 0 }; // just created, its pid not yet written
    holder = Number(text.trim());
    if (Number.isInteger(holder) && holder > 0 && pidAlive(holder) && ageS < maxAgeH * 3600) {
      return { ok: false, holder };
    }
    breakStaleLock(file, text);
  }
  return { ok: false, holder };
}

/** Remove `file` if this process holds it (never another process's lock). */
export function releaseLock(file: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.rmSync(file, { force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
