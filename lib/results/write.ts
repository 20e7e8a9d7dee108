/**
 * The one writer of run results: results/<experiment>/runs/<variant>.json, written atomically (a reader or a resumed
 * grid never sees half a file). Runs that failed or crashed are written too, with their status and error.
 */
import * as path from 'node:path';
import type { ExperimentConfig, RunResult, RunStatus } from '../experiments/types';
import { writeJsonAtomic } from '../util/fs';
import { collectMeta, gitSha } from './meta';
import { checkRunResult } from './read';

const VARIANT_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Folder of one experiment's results under a results root. */
export function experimentDir(resultsRoot: string, experiment: string): string {
  if (!VARIANT_RE.test(experiment)) throw new Error(`results: experiment name ${JSON.stringify(experiment)} is not a safe folder name (letters, digits, . _ + -)`);
  return path.join(resultsRoot, experiment);
}

/** Path of one run's result inside an experiment folder. */
export function runResultPath(expDir: string, variant: string): string {
  if (!VARIANT_RE.test(variant)) throw new Error(`results: variant ${JSON.stringify(variant)} is not a safe file name (letters, digits, . _ + -)`);
  return path.join(expDir, 'runs', `${variant}.json`);
}

/** Validate and write one result atomically to `file`; returns the file. */
export function writeRunResult(file: string, result: RunResult): string {
  checkRunResult(result, file);
  writeJsonAtomic(file, result);
  return file;
}

/** A result for a run that produced none itself (crashed worker, invalid config, cancelled): status plus the error. */
export function failedRunResult(cfg: ExperimentConfig, status: Exclude<RunStatus, 'ok' | 'diverged'>, errorMsg: string, wallS = 0): RunResult {
  return {
    run_info: {
      created_at: new Date().toISOString(),
      experiment: cfg.name,
      variant: cfg.variant,
      config: cfg,
      git_sha: gitSha(),
      error_msg: errorMsg,
    },
    train_info: {
      status,
      diverged_at_step: null,
      num_trainable_params: 0,
      wall_s: wallS,
      step_ms_median: NaN,
      peak_rss_mb: NaN,
      initial_grad_norm: NaN,
      metrics: [],
      final: null,
    },
    meta_info: collectMeta(process.env.BONELAB_BACKEND ?? 'wasm'),
  };
}
