/**
 * Per-configuration summaries over seeds with arquero: for each metric the mean, the sample std and a 95% confidence
 * interval from Student's t (n - 1 degrees of freedom). Only runs with status ok enter the statistics; diverged and
 * failed runs are counted beside them.
 */
import * as aq from 'arquero';
import type { RunRow } from './rows';
import { Stat, tQuantile } from './stats';

export interface MetricDef {
  key: 'accuracy' | 'final_loss' | 'early_loss' | 'eval_loss' | 'step_ms' | 'peak_mb' | 'init_grad_norm';
  title: string;
  /** Multiply for display (accuracy shown in %). */
  scale: number;
  digits: number;
  better: 'higher' | 'lower' | null;
}

/** The metrics of the tables, in column order. */
export const METRICS: readonly MetricDef[] = [
  { key: 'accuracy', title: 'accuracy (%)', scale: 100, digits: 1, better: 'higher' },
  { key: 'eval_loss', title: 'eval loss', scale: 1, digits: 3, better: 'lower' },
  { key: 'final_loss', title: 'final train loss', scale: 1, digits: 3, better: 'lower' },
  { key: 'early_loss', title: 'early train loss', scale: 1, digits: 3, better: 'lower' },
  { key: 'step_ms', title: 'step (ms)', scale: 1, digits: 0, better: 'lower' },
  { key: 'peak_mb', title: 'peak RSS (MB)', scale: 1, digits: 0, better: 'lower' },
  { key: 'init_grad_norm', title: 'initial grad norm', scale: 1, digits: 3, better: null },
];

export type MetricKey = MetricDef['key'];

/** The definition of one metric; throws naming the key when it is not one of METRICS. */
export function metricDef(key: MetricKey): MetricDef {
  const m = METRICS.find((d) => d.key === key);
  if (!m) throw new Error(`metrics: unknown metric ${JSON.stringify(key)} (known: ${METRICS.map((d) => d.key).join(', ')})`);
  return m;
}

export interface SummaryRow {
  group: string;
  label: string;
  kind: string;
  r: number | null;
  lr: number;
  n_runs: number;
  n_ok: number;
  n_diverged: number;
  n_failed: number;
  /** Trainable parameters (identical across seeds). */
  params: number | null;
  stats: Record<MetricKey, Stat>;
}

/** Display order of methods: the paper's method first, then its baselines, full fine-tuning last. */
const KIND_ORDER = ['bone', 'bat', 'mini', 'lora', 'pissa', 'olora', 'dora', 'loraga', 'full'];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

/** The per-group summary as an arquero table: keys, counts, and `<metric>_{n,mean,std}` columns. */
export function summaryTable(rows: readonly RunRow[]): aq.ColumnTable {
  // Only ok runs contribute metric values (a diverged run's step time is real, but its row would mix in a broken run).
  const t = aq.from(
    rows.map((r) => {
      const o: Record<string, unknown> = {
        group: r.group,
        label: r.label,
        kind: r.kind,
        r: r.r,
        lr: r.lr,
        ok: r.status === 'ok' ? 1 : 0,
        div: r.status === 'diverged' ? 1 : 0,
        bad: r.status === 'failed' || r.status === 'cancelled' ? 1 : 0,
        params: r.params,
      };
      for (const m of METRICS) o[m.key] = r.status === 'ok' ? r[m.key] : null;
      return o;
    }),
  );
  const roll: Record<string, unknown> = {
    n_runs: aq.op.count(),
    n_ok: aq.op.sum('ok'),
    n_diverged: aq.op.sum('div'),
    n_failed: aq.op.sum('bad'),
    params: aq.op.max('params'),
  };
  for (const m of METRICS) {
    roll[`${m.key}_n`] = aq.op.valid(m.key);
    roll[`${m.key}_mean`] = aq.op.mean(m.key);
    roll[`${m.key}_std`] = aq.op.stdev(m.key);
  }
  return t.groupby('group', 'label', 'kind', 'r', 'lr').rollup(roll as never);
}

function statFrom(n: number, mean: unknown, std: unknown): Stat {
  const mu = typeof mean === 'number' && n > 0 ? mean : NaN;
  if (!(n >= 2) || typeof std !== 'number' || !Number.isFinite(std)) return { n, mean: mu, std: NaN, ci95: NaN, lo: NaN, hi: NaN };
  const ci95 = tQuantile(0.975, n - 1) * (std / Math.sqrt(n));
  return { n, mean: mu, std, ci95, lo: mu - ci95, hi: mu + ci95 };
}

/** Summaries per group (method, r, lr), ordered by method, then r, then lr. */
export function summarizeRuns(rows: readonly RunRow[]): SummaryRow[] {
  if (rows.length === 0) return [];
  const objs = summaryTable(rows).objects() as Record<string, unknown>[];
  const out = objs.map((o): SummaryRow => {
    const stats = {} as Record<MetricKey, Stat>;
    for (const m of METRICS) stats[m.key] = statFrom(Number(o[`${m.key}_n`] ?? 0), o[`${m.key}_mean`], o[`${m.key}_std`]);
    return {
      group: String(o.group),
      label: String(o.label),
      kind: String(o.kind),
      r: typeof o.r === 'number' ? o.r : null,
      lr: Number(o.lr),
      n_runs: Number(o.n_runs),
      n_ok: Number(o.n_ok),
      n_diverged: Number(o.n_diverged),
      n_failed: Number(o.n_failed),
      params: typeof o.params === 'number' && Number.isFinite(o.params) ? o.params : null,
      stats,
    };
  });
  return out.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.label.localeCompare(b.label) || (a.r ?? 0) - (b.r ?? 0) || a.lr - b.lr);
}
