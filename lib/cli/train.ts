/**
 * `bonelab train --config exp.json [--set key.path=value ...] [--out results/x.json]`: fine-tune one experiment config
 * (defaults filled by resolveExperiment) and write its RunResult atomically. Ctrl-C stops before the next step and
 * still writes the (cancelled) result. Exit code 0 for ok and diverged runs (both are results), 1 for failed, 130 for
 * cancelled.
 */
import * as path from 'node:path';
import { initBackend } from '../backend';
import { parseOverride, resolveExperiment } from '../experiments/config';
import { readJson } from '../util/fs';
import { experimentDir, failedRunResult, runResultPath, writeRunResult } from '../results/write';
import { runExperiment } from '../train/run';
import { parseCli } from './args';

const USAGE = 'usage: bonelab train --config exp.json [--set key.path=value ...] [--out results/x.json] [--backend wasm|cpu] [--quiet]';

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('train', argv, {
    config: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    backend: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  }, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.config) {
    console.error(`train: --config is required\n${USAGE}`);
    return 2;
  }
  const cfg = resolveExperiment(readJson(values.config), ...(values.set ?? []).map(parseOverride));
  const variant = cfg.variant || `${cfg.adapter.kind}-s${cfg.seed}`;
  const out = values.out ?? runResultPath(experimentDir('results', cfg.name), variant);
  await initBackend(values.backend);
  const ctl = new AbortController();
  const onSigint = () => {
    if (ctl.signal.aborted) process.exit(130);
    process.stderr.write('\ntrain: stopping after the current step (Ctrl-C again to quit now)\n');
    ctl.abort();
  };
  process.on('SIGINT', onSigint);
  let result;
  try {
    result = await runExperiment({ ...cfg, variant }, { signal: ctl.signal, progress: !values.quiet });
  } catch (e) {
    result = failedRunResult({ ...cfg, variant }, 'failed', (e as Error).message);
  } finally {
    process.off('SIGINT', onSigint);
  }
  writeRunResult(path.resolve(out), result);
  const t = result.train_info;
  console.log(
    JSON.stringify({
      out,
      status: t.status,
      error: result.run_info.error_msg,
      trainable_params: t.num_trainable_params,
      steps: t.metrics.length,
      final_train_loss: t.metrics.length ? +t.metrics[t.metrics.length - 1].train_loss.toFixed(4) : null,
      eval_loss: t.final ? +t.final.eval_loss.toFixed(4) : null,
      accuracy: t.final ? t.final.accuracy : null,
      n_eval: t.final ? t.final.n_eval : 0,
      step_ms_median: Number.isFinite(t.step_ms_median) ? Math.round(t.step_ms_median) : null,
      wall_s: +t.wall_s.toFixed(1),
    }),
  );
  return t.status === 'failed' ? 1 : t.status === 'cancelled' ? 130 : 0;
}
