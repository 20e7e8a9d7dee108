/**
 * `bonelab notebooks [names...] [--out notebooks/.executed] [--timeout S] [--echo] [--clean]`
 * Executes the numbered notebooks headless (tslab's converter + executor, one process per notebook, no Jupyter),
 * saves executed copies, prints status and time per notebook, and exits 1 naming the notebook and cell that failed.
 * `--clean` instead strips outputs, execution counts and metadata from the notebooks in place (before a commit).
 * BONELAB_SMOKE=1 in the environment reaches the notebooks (they pick their smoke setting from it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanNotebook, readNotebook, serializeNotebook } from '../notebook/ipynb';
import { findNotebooks, runNotebook, PROJECT_ROOT, type NotebookRun } from '../notebook/runner';
import { formatDuration, Progress } from '../util/progress';
import { writeFileAtomic } from '../util/fs';
import { numberOption, parseCli } from './args';

const USAGE = `usage: bonelab notebooks [names...] [--out DIR] [--timeout SEC] [--echo] [--clean]
  names      notebook names, number prefixes or .ipynb paths (default: every notebooks/NN-*.ipynb)
  --out      folder for executed copies (default notebooks/.executed)
  --timeout  kill a notebook after SEC seconds (default: no limit)
  --echo     stream cell output to the terminal while running
  --clean    strip outputs/execution counts/metadata from the notebooks in place, run nothing
env BONELAB_SMOKE=1 selects each notebook's smoke setting (well under a minute each).`;

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r.startsWith('..') ? p : r || '.';
}

function indent(text: string, pad = '    '): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}

function clean(files: string[]): number {
  for (const f of files) {
    const before = fs.readFileSync(f, 'utf8');
    const after = serializeNotebook(cleanNotebook(readNotebook(f)));
    if (before !== after) writeFileAtomic(f, after);
    console.log(`${before === after ? 'clean  ' : 'cleaned'}  ${rel(f)}`);
  }
  return 0;
}

function describe(r: NotebookRun): string {
  const t = `${(r.wallMs / 1000).toFixed(1)} s`.padStart(8);
  if (r.ok) return `ok      ${t}  (${r.cells.length} code cells)`;
  if (r.failed) return `FAILED  ${t}  cell ${r.failed.cell}: ${r.failed.head}\n${indent(r.failed.error ?? '')}`;
  return `FAILED  ${t}  ${r.error ?? ''}`;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli(
    'notebooks',
    argv,
    {
      out: { type: 'string', default: path.join(PROJECT_ROOT, 'notebooks', '.executed') },
      timeout: { type: 'string', default: '0' },
      echo: { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
    },
    USAGE,
    { positionals: true },
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const timeoutSec = numberOption('notebooks', 'timeout', values.timeout, { min: 0 });
  const files = findNotebooks(positionals);
  if (values.clean) return clean(files);
  if (files.length === 0) {
    console.error('notebooks: no numbered notebooks (notebooks/NN-*.ipynb) found');
    return 1;
  }
  const smoke = process.env.BONELAB_SMOKE === '1';
  console.log(`notebooks: ${files.length} to run (${smoke ? 'smoke, BONELAB_SMOKE=1' : 'full setting'}), executed copies in ${rel(values.out)}`);
  const width = Math.max(...files.map((f) => path.basename(f, '.ipynb').length));
  const runs: NotebookRun[] = [];
  const t0 = Date.now();
  for (const file of files) {
    const name = path.basename(file, '.ipynb');
    let bar: Progress | null = null;
    const r = await runNotebook(file, {
      outDir: values.out,
      timeoutSec,
      echo: values.echo,
      onCellStart: (_cell, codeIndex, codeTotal, head) => {
        bar ??= new Progress({ label: `  ${name}`, total: codeTotal, plainEverySec: 30 });
        bar.update(codeIndex - 1, head.slice(0, 40));
      },
    });
    // A failed run stops the bar where it was (end() would claim 100%).
    if (r.ok) (bar as Progress | null)?.end();
    else if (bar && process.stderr.isTTY) process.stderr.write('\n');
    runs.push(r);
    console.log(`  ${name.padEnd(width)}  ${describe(r)}`);
  }
  const bad = runs.filter((r) => !r.ok);
  const total = formatDuration((Date.now() - t0) / 1000);
  console.log(`notebooks: ${runs.length - bad.length} ok, ${bad.length} failed (${total})`);
  for (const r of bad) {
    const where = r.failed ? `cell ${r.failed.cell} (${r.failed.head})` : 'outside a cell';
    console.error(`notebooks: ${rel(r.file)} failed in ${where}; executed copy: ${rel(r.outFile)}`);
  }
  return bad.length > 0 ? 1 : 0;
}
