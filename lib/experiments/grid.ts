/**
 * The grid runner: each cell runs once, in its own worker process (tfjs-wasm is single-threaded, so parallel runs need
 * processes), and leaves exactly one result file. A stopped grid resumes: runs whose file says ok or diverged (with the
 * same config) are done; failed ones are retried only on request; a crashed worker is recorded as failed and the grid
 * goes on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResult, RunStatus } from './types';
import type { GridCell, GridSpec } from './grid-spec';
import { jsonEqual } from './schema';
import { experimentDir, failedRunResult, runResultPath, writeRunResult } from '../results/write';
import { readRunResult } from '../results/read';
import { writeJsonAtomic } from '../util/fs';
import { releaseLock, tryLock } from '../util/lock';
import { Progress, formatDuration } from '../util/progress';
import { processRunner } from './worker-process';

/** What a runner is given for one cell. */
export interface CellContext {
  /** Where the run's result must be written (through lib/results/write). */
  outFile: string;
  expDir: string;
  /** Report training progress (step out of cell.config.steps, and a short status such as the loss). */
  onProgress(step: number, status?: string): void;
  /** Aborted when the grid is cancelled: stop the run and return. */
  signal: AbortSignal;
}

/**
 * Runs one cell and writes its result to ctx.outFile. Resolving without a file, or rejecting, counts as a failed run
 * (the rejection's message becomes error_msg).
 */
export type CellRunner = (cell: GridCell, ctx: CellContext) => Promise<void>;

export interface GridOptions {
  /** Results root; the experiment folder is <root>/<spec.name>. */
  resultsRoot: string;
  /** Concurrent runs (default min(2, cores)). */
  jobs?: number;
  /** Re-run cells whose result is failed or cancelled. */
  retryFailed?: boolean;
  /** Default: a worker process per cell (lib/experiments/worker.ts). */
  runner?: CellRunner;
  /** Kill a run after this many seconds (recorded as failed). */
  cellTimeoutS?: number;
  signal?: AbortSignal;
  /** Per-run summary lines (default console.log); the progress bar goes to stderr. */
  log?: (line: string) => void;
  /** No progress bar. */
  quiet?: boolean;
}

export interface CellOutcome {
  variant: string;
  /** 'skipped': already finished (or failed, without retryFailed) in an earlier invocation. */
  action: 'ran' | 'skipped';
  status: RunStatus;
}

export interface GridSummary {
  expDir: string;
  total: number;
  ran: number;
  skipped: number;
  counts: Record<RunStatus, number>;
  /** Cells not run because the grid was cancelled. */
  cancelled: number;
  wall_s: number;
  outcomes: CellOutcome[];
}

const FINISHED: RunStatus[] = ['ok', 'diverged'];

/** Does an existing result make this cell done? Its config must match the cell's exactly (else it is stale). */
export function cellState(cell: GridCell, existing: RunResult | null, retryFailed: boolean): 'done' | 'skip-failed' | 'run' {
  if (!existing || !jsonEqual(existing.run_info.config, cell.config)) return 'run';
  if (FINISHED.includes(existing.train_info.status)) return 'done';
  return retryFailed ? 'run' : 'skip-failed';
}

/** Refuse to run two grids on one experiment folder at once (their workers would write the same files). */
function acquireLock(expDir: string): () => void {
  const lock = path.join(expDir, '.grid.lock');
  const got = tryLock(lock);
  if (!got.ok) throw new Error(`grid: another grid (pid ${got.holder}) is running on ${expDir}; wait for it or remove ${lock} if it is gone`);
  return () => releaseLock(lock);
}

/** A finished run as one line: status, variant, losses, accuracy, cost. */
export function summaryLine(r: RunResult | null, variant: string, index: number, total: number): string {
  const w = String(total).length;
  const head = `[${String(index).padStart(w)}/${total}]`;
  if (!r) return `${head} failed    ${variant}  (no result written)`;
  const ti = r.train_info;
  const last = ti.metrics.length > 0 ? ti.metrics[ti.metrics.length - 1] : null;
  const parts = [`${head} ${ti.status.padEnd(9)} ${variant}`];
  if (last) parts.push(`loss ${last.train_loss.toFixed(3)}`);
  if (ti.final) parts.push(`eval ${ti.final.eval_loss.toFixed(3)}`, `acc ${(100 * ti.final.accuracy).toFixed(1)}%`);
  if (Number.isFinite(ti.step_ms_median)) parts.push(`${ti.step_ms_median.toFixed(0)} ms/step`);
  if (Number.isFinite(ti.peak_rss_mb)) parts.push(`${ti.peak_rss_mb.toFixed(0)} MB`);
  parts.push(`${ti.wall_s.toFixed(0)} s`);
  if (ti.status !== 'ok' && r.run_info.error_msg) parts.push(`: ${r.run_info.error_msg.split('\n').filter(Boolean).slice(-1)[0] ?? ''}`);
  return parts.join('  ');
}

/** Run (or resume) a grid. Writes <root>/<name>/grid.json (the cell list) and one result per cell under runs/. */
export async function runGrid(spec: GridSpec, cells: GridCell[], opts: GridOptions): Promise<GridSummary> {
  const t0 = Date.now();
  const expDir = experimentDir(opts.resultsRoot, spec.name);
  fs.mkdirSync(path.join(expDir, 'runs'), { recursive: true });
  const release = acquireLock(expDir);
  const log = opts.log ?? ((s: string) => console.log(s));
  const jobs = Math.max(1, opts.jobs ?? Math.min(2, os.cpus().length));
  const runner = opts.runner ?? processRunner();
  const counts: Record<RunStatus, number> = { ok: 0, diverged: 0, failed: 0, cancelled: 0 };
  const outcomes: CellOutcome[] = [];
  try {
    writeJsonAtomic(path.join(expDir, 'grid.json'), {
      name: spec.name,
      description: spec.description ?? '',
      claims: spec.claims ?? [],
      created_at: new Date().toISOString(),
      spec,
      cells: cells.map((c) => ({ variant: c.variant, group: c.group, label: c.label })),
    });
    // Leftovers of atomic writes interrupted by a kill: never valid results, safe to drop while we hold the lock.
    for (const f of fs.readdirSync(path.join(expDir, 'runs'))) if (f.includes('.json.tmp-')) fs.rmSync(path.join(expDir, 'runs', f), { force: true });

    const pending: GridCell[] = [];
    for (const cell of cells) {
      const existing = readRunResult(runResultPath(expDir, cell.variant));
      const state = cellState(cell, existing, opts.retryFailed ?? false);
      if (state === 'run') pending.push(cell);
      else {
        const status = existing!.train_info.status;
        counts[status]++;
        outcomes.push({ variant: cell.variant, action: 'skipped', status });
      }
    }
    if (outcomes.length > 0) log(`${spec.name}: ${outcomes.length} of ${cells.length} runs already have results (${pending.length} to run)`);

    const totalSteps = pending.reduce((a, c) => a + c.config.steps, 0);
    const stepsDone = new Map<string, number>();
    const bar = new Progress({ label: spec.name, total: totalSteps, silent: opts.quiet || pending.length === 0 });
    let finished = 0;
    let cancelledCells = 0;
    const refresh = (status = '') => bar.update([...stepsDone.values()].reduce((a, b) => a + b, 0), `${finished}/${pending.length} runs${status ? ` ${status}` : ''}`);
    const clearBar = () => {
      if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    };

    const runOne = async (cell: GridCell): Promise<void> => {
      const outFile = runResultPath(expDir, cell.variant);
      fs.rmSync(outFile, { force: true }); // a stale or failed result must not pass for this run's
      const ctrl = new AbortController();
      const onAbort = () => ctrl.abort();
      opts.signal?.addEventListener('abort', onAbort);
      const timer = opts.cellTimeoutS ? setTimeout(() => ctrl.abort(new Error(`timed out after ${opts.cellTimeoutS} s`)), opts.cellTimeoutS * 1000) : null;
      const start = Date.now();
      let error: string | null = null;
      try {
        await runner(cell, {
          outFile,
          expDir,
          signal: ctrl.signal,
          onProgress: (step, status) => {
            stepsDone.set(cell.variant, Math.min(step, cell.config.steps));
            refresh(status ? `| ${cell.variant} ${status}` : '');
          },
        });
      } catch (e) {
        error = (e as Error).message || String(e);
      } finally {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      }
      if (opts.signal?.aborted) {
        cancelledCells++;
        return;
      }
      if (ctrl.signal.aborted && ctrl.signal.reason instanceof Error) error = ctrl.signal.reason.message;
      // A result the run wrote itself stands (it may carry a better error than the exit); none means it failed.
      let result = readRunResult(outFile);
      if (!result) {
        result = failedRunResult(cell.config, 'failed', error ?? 'the run ended without writing a result', (Date.now() - start) / 1000);
        writeRunResult(outFile, result);
      }
      stepsDone.set(cell.variant, cell.config.steps);
      finished++;
      counts[result.train_info.status]++;
      outcomes.push({ variant: cell.variant, action: 'ran', status: result.train_info.status });
      clearBar();
      log(summaryLine(result, cell.variant, finished, pending.length));
      refresh();
    };

    const queue = [...pending];
    const workers = Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      while (queue.length > 0 && !opts.signal?.aborted) await runOne(queue.shift()!);
    });
    await Promise.all(workers);
    cancelledCells += queue.length;
    if (pending.length > 0) bar.end(opts.signal?.aborted ? 'cancelled' : 'done');
    const ran = outcomes.filter((o) => o.action === 'ran').length;
    return {
      expDir,
      total: cells.length,
      ran,
      skipped: outcomes.length - ran,
      counts,
      cancelled: cancelledCells,
      wall_s: (Date.now() - t0) / 1000,
      outcomes,
    };
  } finally {
    release();
  }
}

/** A signal that Ctrl-C or SIGTERM aborts, printing `message` (the grid then stops its workers); dispose when done. */
export function abortOnSignals(message: string): { signal: AbortSignal; dispose(): void } {
  const ctrl = new AbortController();
  const onSignal = () => {
    console.error(`\n${message}`);
    ctrl.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: ctrl.signal,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/** One line for the end of a grid. */
export function gridSummaryText(s: GridSummary): string {
  const c = s.counts;
  return `${s.total} runs: ${c.ok} ok, ${c.diverged} diverged, ${c.failed} failed${c.cancelled ? `, ${c.cancelled} cancelled` : ''} (${s.ran} ran now, ${s.skipped} from earlier${s.cancelled ? `, ${s.cancelled} not run: cancelled` : ''}) in ${formatDuration(s.wall_s)}`;
}
