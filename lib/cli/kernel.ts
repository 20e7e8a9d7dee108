/**
 * `bonelab kernel install [--prefix .jupyter]`: install the project-local tslab kernelspec (no Python, no network)
 * and print the command that opens the notebooks with it.
 */
import * as path from 'node:path';
import { findJupyter, installKernelSpec, jupyterDataDir } from '../notebook/kernelspec';
import { PROJECT_ROOT } from '../notebook/runner';
import { parseCli } from './args';

const USAGE = `usage: bonelab kernel install [--prefix DIR]
  Writes DIR/share/jupyter/kernels/tslab/kernel.json (default DIR: <project>/.jupyter), a tslab kernel that starts
  at the project root so notebooks can import ./lib/...; then run Jupyter with JUPYTER_PATH=DIR/share/jupyter.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('kernel', argv, { prefix: { type: 'string', default: path.join(PROJECT_ROOT, '.jupyter') } }, USAGE, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] !== 'install') {
    console.error(`kernel: expected the subcommand 'install', got ${JSON.stringify(positionals.join(' '))}\n${USAGE}`);
    return 2;
  }
  const prefix = path.resolve(values.prefix);
  const file = installKernelSpec(PROJECT_ROOT, prefix);
  console.log(`kernel: wrote ${file}`);
  console.log(`kernel: open the notebooks with\n  JUPYTER_PATH=${jupyterDataDir(prefix)} jupyter notebook ${path.join(PROJECT_ROOT, 'notebooks')}`);
  if (!findJupyter()) {
    console.log('kernel: jupyter is not installed here (optional; e.g. apt-get install jupyter-notebook jupyter-nbconvert python3-ipykernel);');
    console.log('        `npm run notebooks` executes the notebooks without it.');
  }
  return 0;
}
