/**
 * The project-local Jupyter kernelspec for tslab. Jupyter starts a kernel in the notebook's folder, but tslab takes
 * its working directory as the TypeScript rootDir, so `./lib/...` imports need the kernel to start at the project
 * root: the kernelspec's command changes directory first. It is the kernel.json `tslab install` writes (same name,
 * `kernel --config-path {connection_file}`), written directly so installing needs neither Python nor a network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/fs';
import { TSLAB_KERNELSPEC } from './ipynb';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
}

/** `<prefix>/share/jupyter` is what JUPYTER_PATH must name; kernels live below it. */
export function jupyterDataDir(prefix: string): string {
  return path.join(prefix, 'share', 'jupyter');
}

/**
 * kernel.json for a project root. `$0` is the connection file Jupyter substitutes; the root and the Node binary are
 * separate arguments so no path needs shell quoting.
 */
export function kernelSpecFor(root: string, nodeBin: string = process.execPath): KernelSpec {
  const tslabBin = path.join(root, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!fs.existsSync(tslabBin)) throw new Error(`kernel: tslab is not installed under ${root} (missing ${tslabBin}; run npm ci)`);
  return {
    argv: ['/bin/sh', '-c', 'cd "$1" && exec "$2" "$3" kernel --config-path "$0"', '{connection_file}', root, nodeBin, tslabBin],
    display_name: TSLAB_KERNELSPEC.display_name,
    language: TSLAB_KERNELSPEC.language,
  };
}

/** Write `<prefix>/share/jupyter/kernels/tslab/kernel.json`; returns its path. */
export function installKernelSpec(root: string, prefix: string, nodeBin?: string): string {
  const file = path.join(jupyterDataDir(prefix), 'kernels', TSLAB_KERNELSPEC.name, 'kernel.json');
  writeJsonAtomic(file, kernelSpecFor(root, nodeBin));
  return file;
}

/** The jupyter executable that would serve these notebooks, if one is installed (PATH first, then /usr/bin). */
export function findJupyter(): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of [...dirs, '/usr/bin']) {
    const f = path.join(d, 'jupyter');
    if (fs.existsSync(f)) return f;
  }
  return null;
}
