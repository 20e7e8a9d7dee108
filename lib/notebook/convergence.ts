/**
 * Steps and wall-clock seconds each configuration needs to reach a target training loss, from the result files.
 * The loss is a moving mean over the run's final window (10% of its logged steps), as in the report's
 * convergence-time claim, so one lucky batch does not count as reaching the target.
 */
import type { RunResult } from '../experiments/types';
import { groupOf } from '../experiments/naming';
import { readCurrentRunResults } from '../results/read';
import { firstReach, meanOf, windowLoss } from '../report/rows';

export interface TargetRow {
  group: string;
  kind: string;
  /** Runs with status ok in the group. */
  seeds: number;
  /** How many of them reach the target. */
  reached: number;
  /** Mean over the runs that reach it (null if none does). */
  steps_to_target: number | null;
  seconds_to_target: number | null;
}

/**
 * Steps and seconds to `target` per group. Default target: the highest final-window loss over all ok runs, i.e. the
 * lowest loss every run gets to, so each configuration has a time.
 */
export function targetLossRows(expDir: string, target?: number): { target: number; rows: TargetRow[] } {
  const runs = readCurrentRunResults(expDir).results.filter((r) => r.train_info.status === 'ok' && r.train_info.metrics.length > 0);
  if (runs.length === 0) throw new Error(`targetLossRows: no finished runs with metrics in ${expDir}`);
  const t = target ?? Math.max(...runs.map((r) => windowLoss(r, 'last') ?? -Infinity));
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const g = groupOf(r.run_info.variant);
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  const rows = [...groups.entries()].map(([group, rs]): TargetRow => {
    const hits = rs.map((r) => firstReach(r, t)).filter((h): h is { step: number; wall_s: number } => h !== null);
    return {
      group,
      kind: rs[0].run_info.config.adapter.kind,
      seeds: rs.length,
      reached: hits.length,
      steps_to_target: meanOf(hits.map((h) => h.step)),
      seconds_to_target: meanOf(hits.map((h) => h.wall_s)),
    };
  });
  return { target: t, rows };
}
