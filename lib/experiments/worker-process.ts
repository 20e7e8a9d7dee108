/**
 * The default cell runner: one `node --import tsx lib/experiments/worker.ts` process per run. The worker prints
 * progress lines (`@@progress {"step":..}`) on stdout; a non-zero exit without a result becomes a failed run whose
 * error is the tail of the worker's stderr.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/fs';
import type { CellRunner } from './grid';

export const PROGRESS_PREFIX = '@@progress ';
const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'worker.ts');

/** Keep the last `max` characters of a stream. */
class Tail {
  private s = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.s = (this.s + chunk).slice(-this.max);
  }
  text(): string {
    return this.s.trim();
  }
}

export interface ProcessRunnerOptions {
  /** argv before `--config <file> --out <file>` (default: node --import tsx lib/experiments/worker.ts). */
  command?: string[];
  /** Extra environment for the worker (BONELAB_BACKEND is inherited). */
  env?: Record<string, string>;
}

/** A CellRunner that runs each cell in a child process. */
export function processRunner(opts: ProcessRunnerOptions = {}): CellRunner {
  const command = opts.command ?? [process.execPath, '--import', 'tsx', WORKER];
  return (cell, ctx) =>
    new Promise<void>((resolve, reject) => {
      if (ctx.signal.aborted) return reject(new Error('cancelled before the worker started'));
      const tmpDir = path.join(ctx.expDir, '.tmp');
      const cfgFile = path.join(tmpDir, `${cell.variant}.config.json`);
      writeJsonAtomic(cfgFile, cell.config);
      const child = spawn(command[0], [...command.slice(1), '--config', cfgFile, '--out', ctx.outFile], {
        cwd: ROOT,
        env: { ...process.env, ...opts.env, BONELAB_WORKER: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const err = new Tail(4000);
      const out = new Tail(2000);
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith(PROGRESS_PREFIX)) {
            try {
              const p = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as { step: number; status?: string };
              ctx.onProgress(p.step, p.status);
            } catch {
              /* a garbled progress line is not worth failing a run for */
            }
          } else out.push(line + '\n');
        }
      });
      child.stderr.on('data', (chunk: string) => err.push(chunk));
      const onAbort = () => child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', onAbort);
      child.on('error', (e) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(new Error(`could not start worker ${command.join(' ')}: ${e.message}`));
      });
      child.on('close', (code, sig) => {
        ctx.signal.removeEventListener('abort', onAbort);
        fs.rmSync(cfgFile, { force: true });
        if (code === 0) return resolve();
        const tail = err.text() || out.text();
        reject(new Error(`worker ${sig ? `killed by ${sig}` : `exited with code ${code}`}${tail ? `: ${tail}` : ''}`));
      });
    });
}
