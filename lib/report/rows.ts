/**
 * One flat row per run, taken from result files: the numbers every table, figure and claim is computed from.
 * Curve-derived numbers use fixed windows so they are comparable across methods: "final loss" is the mean training
 * loss over the last 10% of logged steps, "early loss" over the first 10%.
 */
import type { RunResult, RunStatus } from '../experiments/types';
import { groupOf, parseVariant } from '../experiments/naming';

export const WINDOW_FRACTION = 0.1;

export interface RunRow {
  variant: string;
  /** Variant without the seed: the unit of the tables (mean over seeds). */
  group: string;
  /** Method label from the variant (kind, or the grid entry's label such as `bat-in`). */
  label: string;
  kind: string;
  r: number | null;
  lr: number;
  seed: number;
  status: RunStatus;
  steps: number;
  params: number | null;
  /** Exact-match accuracy in [0, 1] on the generated evaluation problems. */
  accuracy: number | null;
  final_loss: number | null;
  early_loss: number | null;
  eval_loss: number | null;
  step_ms: number | null;
  peak_mb: number | null;
  init_grad_norm: number | null;
  wall_s: number | null;
  error: string | null;
}

function finite(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Mean of the finite values; null when there are none. */
export function meanOf(xs: readonly number[]): number | null {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Number of logged steps in a first/last window (at least one). */
export function finalWindow(r: RunResult, fraction = WINDOW_FRACTION): number {
  return Math.max(1, Math.round(r.train_info.metrics.length * fraction));
}

/** Mean training loss over the first or last `fraction` of logged steps (at least one step). */
export function windowLoss(r: RunResult, where: 'first' | 'last', fraction = WINDOW_FRACTION): number | null {
  const m = r.train_info.metrics;
  if (m.length === 0) return null;
  const k = finalWindow(r, fraction);
  const part = where === 'first' ? m.slice(0, k) : m.slice(m.length - k);
  return meanOf(part.map((x) => x.train_loss));
}

export function runRow(r: RunResult): RunRow {
  const cfg = r.run_info.config;
  const ti = r.train_info;
  const parsed = parseVariant(r.run_info.variant);
  const ok = ti.status === 'ok';
  return {
    variant: r.run_info.variant,
    group: groupOf(r.run_info.variant),
    label: parsed?.label ?? cfg.adapter.kind,
    kind: cfg.adapter.kind,
    r: (cfg.adapter as { r?: number }).r ?? null,
    lr: cfg.optimizer.lr,
    seed: cfg.seed,
    status: ti.status,
    steps: cfg.steps,
    params: ti.num_trainable_params > 0 ? ti.num_trainable_params : null,
    accuracy: ok ? finite(ti.final?.accuracy) : null,
    final_loss: ok ? windowLoss(r, 'last') : null,
    early_loss: ok ? windowLoss(r, 'first') : null,
    eval_loss: ok ? finite(ti.final?.eval_loss) : null,
    step_ms: finite(ti.step_ms_median),
    peak_mb: finite(ti.peak_rss_mb),
    init_grad_norm: finite(ti.initial_grad_norm),
    wall_s: finite(ti.wall_s),
    error: r.run_info.error_msg,
  };
}

/**
 * First logged step, with its wall-clock seconds, at which the training loss (a moving mean over `window` logged steps,
 * to damp batch noise: one lucky batch does not count) is at or below `target`; null when it never is.
 */
export function firstReach(r: RunResult, target: number, window = finalWindow(r)): { step: number; wall_s: number } | null {
  const m = r.train_info.metrics;
  for (let i = 0; i < m.length; i++) {
    const avg = meanOf(m.slice(Math.max(0, i - window + 1), i + 1).map((x) => x.train_loss));
    if (avg !== null && avg <= target) return { step: m[i].step, wall_s: m[i].wall_s };
  }
  return null;
}

/** Wall-clock seconds until the moving-mean training loss first reaches `target` (see firstReach); null if never. */
export function timeToLoss(r: RunResult, target: number, window: number): number | null {
  return firstReach(r, target, window)?.wall_s ?? null;
}
