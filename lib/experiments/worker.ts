/**
 * One grid cell in its own process: `node --import tsx lib/experiments/worker.ts --config <cfg.json> --out <result.json>`.
 * Trains with the real engine (runExperiment), prints `@@progress {"step": n, "status": "..."}` lines for the grid's
 * progress bar, and writes the result through the one results writer. An exception is written as a failed result.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { runExperiment } from '../train/run';
import { resolveExperiment } from './config';
import { jsonEqual } from './schema';
import { failedRunResult, writeRunResult } from '../results/write';
import { readJson } from '../util/fs';
import { PROGRESS_PREFIX } from './worker-process';

export async function runWorker(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, out: { type: 'string' } } });
  if (!values.config || !values.out) throw new Error('worker: usage: worker.ts --config <config.json> --out <result.json>');
  const raw = readJson(values.config);
  const cfg = resolveExperiment(raw);
  if (!jsonEqual(cfg, raw)) throw new Error(`worker: ${values.config} is not a fully resolved config (resolving it changes it)`);
  try {
    await initBackend();
    const result = await runExperiment(cfg, {
      onStep: (m) => process.stdout.write(`${PROGRESS_PREFIX}${JSON.stringify({ step: m.step, status: `loss ${m.train_loss.toFixed(3)}` })}\n`),
    });
    writeRunResult(values.out, result);
    return 0;
  } catch (e) {
    const err = e as Error;
    writeRunResult(values.out, failedRunResult(cfg, 'failed', `${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}`));
    console.error(err.stack ?? err.message);
    return 1;
  }
}

if (require.main === module) {
  runWorker(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(2);
    },
  );
}
