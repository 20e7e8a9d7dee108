/**
 * Steps and wall-clock seconds each configuration needs to reach a target training loss, from the result files.
 * The loss is a moving mean over the run's final window (10% of its logged steps), as in the report's
 * convergence-time claim, so one lucky batch does not count as reaching the target.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../experiments/types';
import { groupOf } from '../experiments/naming';
import { readRunResults } from '../results/read';
import { finalWindow, windowLoss } from '../report/rows';
import { readJson } from '../util/fs';

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

/** First logged step (and its wall-clock seconds) at which the moving-mean training loss is <= target. */
export function firstReach(r: RunResult, target: number, window = finalWindow(r)): { step: number; wall_s: number } | null {
  const m = r.train_info.metrics;
  for (let i = 0; i < m.length; i++) {
    const part = m.slice(Math.max(0, i - window + 1), i + 1);
    const avg = part.reduce((a, x) => a + x.train_loss, 0) / part.length;
    if (Number.isFinite(avg) && avg <= target) return { step: m[i].step, wall_s: m[i].wall_s };
  }
  return null;
}

/** The finished runs of the grid's current cells (grid.json), as the report reads them. */
export function currentRuns(expDir: string): RunResult[] {
  const { results } = readRunResults(expDir);
  const manifest = path.join(expDir, 'grid.json');
  if (!fs.existsSync(manifest)) return results;
  const cells = new Set(readJson<{ cells: { variant: string }[] }>(manifest).cells.map((c) => c.variant));
  return results.filter((r) => cells.has(r.run_info.variant));
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/**
 * Steps and seconds to `target` per group. Default target: the highest final-window loss over all ok runs, i.e. the
 * lowest loss every run gets to, so each configuration has a time.
 */
export function targetLossRows(expDir: string, target?: number): { target: number; rows: TargetRow[] } {
  const runs = currentRuns(expDir).filter((r) => r.train_info.status === 'ok' && r.train_info.metrics.length > 0);
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
      steps_to_target: mean(hits.map((h) => h.step)),
      seconds_to_target: mean(hits.map((h) => h.wall_s)),
    };
  });
  return { target: t, rows };
}
