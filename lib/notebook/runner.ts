/**
 * Headless notebook runs: find the numbered notebooks, execute each in its own Node process (worker.ts) with
 * cwd = the project root, and collect per-notebook status, time and the failing cell.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CellReport } from './execute';
import type { WorkerMessage } from './worker';

/** The project root (lib/notebook/../..): the kernel's working directory, so cells import `./lib/...`. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const NOTEBOOK_DIR = path.join(PROJECT_ROOT, 'notebooks');
/** Numbered notebooks only (`00-quickstart.ipynb`); scratch notebooks are not part of the run. */
export const NUMBERED_NOTEBOOK = /^\d\d-[\w.-]+\.ipynb$/;

export interface RunNotebookOptions {
  /** Folder for the executed copies (created if missing). */
  outDir: string;
  /** Kill the notebook's process after this many seconds (0 = no limit). */
  timeoutSec?: number;
  /** Forward cell output live to this process's stderr (long full-setting runs). */
  echo?: boolean;
  /** Progress callbacks for the CLI. */
  onCellStart?(cell: number, codeIndex: number, codeTotal: number, head: string): void;
  onCellEnd?(report: CellReport): void;
}

export interface NotebookRun {
  name: string;
  file: string;
  outFile: string;
  ok: boolean;
  wallMs: number;
  cells: CellReport[];
  /** The failing cell, if a cell failed. */
  failed: CellReport | null;
  /** Failure outside a cell (timeout, crash, unreadable notebook), else null. */
  error: string | null;
}

/** Notebook names or paths -> files. No names: every numbered notebook in notebooks/, in order. */
export function findNotebooks(names: string[], dir = NOTEBOOK_DIR): string[] {
  if (names.length === 0) {
    if (!fs.existsSync(dir)) throw new Error(`notebooks: folder not found: ${dir}`);
    return fs.readdirSync(dir).filter((f) => NUMBERED_NOTEBOOK.test(f)).sort().map((f) => path.join(dir, f));
  }
  const all = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => NUMBERED_NOTEBOOK.test(f)).sort() : [];
  return names.map((n) => {
    if (n.endsWith('.ipynb') && fs.existsSync(n)) return path.resolve(n);
    const hits = all.filter((f) => f === n || f === `${n}.ipynb` || f.startsWith(`${n}-`));
    if (hits.length === 1) return path.join(dir, hits[0]);
    const known = all.map((f) => f.replace(/\.ipynb$/, '')).join(', ') || '(none)';
    if (hits.length === 0) throw new Error(`notebooks: no notebook matches '${n}' (known: ${known})`);
    throw new Error(`notebooks: '${n}' is ambiguous (${hits.join(', ')})`);
  });
}

/** Execute one notebook in a fresh process; resolves (never rejects) with what happened. */
export function runNotebook(file: string, opts: RunNotebookOptions): Promise<NotebookRun> {
  const name = path.basename(file, '.ipynb');
  const outFile = path.join(path.resolve(opts.outDir), `${name}.ipynb`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const t0 = Date.now();
  const cells: CellReport[] = [];
  let failed: CellReport | null = null;
  let done = false;
  let current = 0;
  let tail = '';
  const args = [path.resolve(file), outFile, ...(opts.echo ? ['--echo'] : [])];
  // A kernel's stdout is not a terminal, so console.log prints without ANSI colours; keep it so even when the
  // caller forces colours (uvu sets FORCE_COLOR=1).
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  const child = fork(path.join(__dirname, 'worker.ts'), args, {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group, so a timeout or Ctrl-C also ends the grid workers a notebook cell has started.
    detached: true,
  });
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // ESRCH: the whole group is already gone
    }
  };
  // Exit as a shell reports a process ended by that signal: 128 + its number (SIGINT 130, SIGTERM 143).
  const onSignal = (signal: NodeJS.Signals): void => {
    killGroup();
    process.exit(128 + os.constants.signals[signal]);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Output outside cells (start-up crashes) is kept to explain a failure.
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('message', (m: WorkerMessage) => {
    if (m.type === 'cell-start') {
      current = m.cell;
      opts.onCellStart?.(m.cell, m.codeIndex, m.codeTotal, m.head);
    } else if (m.type === 'cell-end') {
      cells.push(m.report);
      opts.onCellEnd?.(m.report);
    } else if (m.type === 'text') {
      process.stderr.write(m.text);
    } else if (m.type === 'done') {
      done = true;
      failed = m.failed;
    }
  });
  let timedOut = false;
  const timer = opts.timeoutSec && opts.timeoutSec > 0
    ? setTimeout(() => {
        timedOut = true;
        killGroup();
      }, opts.timeoutSec * 1000)
    : null;
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      killGroup(); // grid workers a cell started must not outlive the notebook
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const wallMs = Date.now() - t0;
      let error: string | null = null;
      if (timedOut) error = `timed out after ${opts.timeoutSec}s in cell ${current}`;
      else if (!done) error = `notebook process exited (${signal ?? `code ${code}`}) in cell ${current}${tail.trim() ? `:\n${tail.trim()}` : ''}`;
      else if (!failed && code !== 0) error = `notebook process exited with code ${code}${tail.trim() ? `:\n${tail.trim()}` : ''}`;
      resolve({ name, file, outFile, ok: error === null && failed === null, wallMs, cells, failed, error });
    });
  });
}
