/**
 * One notebook, one process: `node --import tsx lib/notebook/worker.ts <in.ipynb> <out.ipynb> [--echo]`, started by
 * runner.ts with cwd = the project root. Reports progress to the parent over the IPC channel and writes the executed
 * notebook (also when a cell fails, so the failing output can be read).
 */
import { writeFileAtomic } from '../util/fs';
import { executeNotebook, type CellReport } from './execute';
import { readNotebook, serializeNotebook } from './ipynb';

export type WorkerMessage =
  | { type: 'cell-start'; cell: number; codeIndex: number; codeTotal: number; head: string }
  | { type: 'cell-end'; report: CellReport }
  | { type: 'text'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'done'; cells: CellReport[]; failed: CellReport | null };

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(msg, undefined, {}, () => resolve());
  });
}

async function main(): Promise<number> {
  const [inFile, outFile, ...flags] = process.argv.slice(2);
  if (!inFile || !outFile) throw new Error('usage: worker.ts <in.ipynb> <out.ipynb> [--echo]');
  const echo = flags.includes('--echo');
  const nb = readNotebook(inFile);
  const res = await executeNotebook(nb, {
    onCellStart: (cell, codeIndex, codeTotal, head) => void send({ type: 'cell-start', cell, codeIndex, codeTotal, head }),
    onCellEnd: (report) => void send({ type: 'cell-end', report }),
    onText: echo ? (stream, text) => void send({ type: 'text', stream, text }) : undefined,
  });
  writeFileAtomic(outFile, serializeNotebook(res.notebook));
  await send({ type: 'done', cells: res.cells, failed: res.failed });
  return res.failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`notebook worker: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(2);
  },
);
