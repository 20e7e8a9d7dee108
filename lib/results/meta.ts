/** Provenance written into every result: backend, versions, machine, and the checkout's git commit. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResult } from '../experiments/types';

const ROOT = path.resolve(__dirname, '..', '..');

/** Installed version of a package (from its package.json), or 'missing'. */
export function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'missing';
  }
}

/**
 * The git folder of a checkout: `.git` itself, or, when `.git` is a file (a linked worktree or a submodule), the
 * folder its `gitdir:` line names (relative to the checkout when not absolute).
 */
function gitDirOf(root: string): string {
  const dotGit = path.join(root, '.git');
  if (!fs.statSync(dotGit).isFile()) return dotGit;
  const line = fs.readFileSync(dotGit, 'utf8').split('\n').find((l) => l.startsWith('gitdir:'));
  if (!line) throw new Error(`${dotGit}: no gitdir line`);
  return path.resolve(root, line.slice('gitdir:'.length).trim());
}

/** The commit the checkout is at, read from .git without running git (null outside a git checkout). */
export function gitSha(root = ROOT): string | null {
  try {
    const gitDir = gitDirOf(root);
    // A linked worktree keeps HEAD in its own folder but branches and packed-refs in the main one (named by commondir).
    const commonFile = path.join(gitDir, 'commondir');
    const common = fs.existsSync(commonFile) ? path.resolve(gitDir, fs.readFileSync(commonFile, 'utf8').trim()) : gitDir;
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(5);
    for (const dir of [gitDir, common]) {
      const loose = path.join(dir, ref);
      if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim();
    }
    const packed = path.join(common, 'packed-refs');
    if (!fs.existsSync(packed)) return null;
    const line = fs.readFileSync(packed, 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
    return line ? line.split(' ')[0] : null;
  } catch {
    return null;
  }
}

/** meta_info for a result; `backend` is the tfjs backend the run used (or was meant to use, for a crashed worker). */
export function collectMeta(backend: string): RunResult['meta_info'] {
  const names = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', 'arquero', 'plotly.js-dist-min', 'tsx'];
  return {
    backend,
    tfjs_version: packageVersion('@tensorflow/tfjs'),
    node_version: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    cpus: os.cpus().length,
    packages: Object.fromEntries(names.map((n) => [n, packageVersion(n)])),
  };
}
