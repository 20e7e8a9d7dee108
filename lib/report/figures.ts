/**
 * The report's figures as plotly JSON, built from result files: loss curves with seed bands (whole run and first
 * steps), block-size ablation, accuracy vs trainable parameters, initial gradient norm vs rank, and cost per method.
 */
import type { RunResult } from '../experiments/types';
import { formatLr, groupOf } from '../experiments/naming';
import type { NamedFigure } from './plotly';
import type { SummaryRow } from './summary';
import { metricDef, MetricKey } from './summary';
import { formatCount } from './tables';

const COLORS: Record<string, string> = {
  bone: '#d62728', bat: '#9467bd', mini: '#e377c2', lora: '#1f77b4', pissa: '#2ca02c', olora: '#ff7f0e', dora: '#17becf', loraga: '#8c564b', full: '#7f7f7f',
};
const EXTRA = ['#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173'];

/** Which series (one line, one legend entry) a group belongs to; the key is also the legend text. */
export type SeriesOf = (g: SummaryRow) => string;

/** One line per method and learning rate, e.g. along r. */
export const byMethodAndLr: SeriesOf = (g) => `${g.label} lr=${formatLr(g.lr)}`;

/** A stable colour per series, by default per group (kind colour for the first series of a kind). */
function palette(groups: readonly SummaryRow[], seriesOf: SeriesOf = (g) => g.group): Map<string, string> {
  const out = new Map<string, string>();
  const usedKinds = new Set<string>();
  let extra = 0;
  for (const g of groups) {
    const k = seriesOf(g);
    if (out.has(k)) continue;
    if (COLORS[g.kind] && !usedKinds.has(g.kind)) {
      out.set(k, COLORS[g.kind]);
      usedKinds.add(g.kind);
    } else out.set(k, EXTRA[extra++ % EXTRA.length]);
  }
  return out;
}

function rgba(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** Legend text of a group: label, r and lr. */
export function groupName(g: SummaryRow): string {
  return `${g.label}${g.r !== null ? ` r=${g.r}` : ''} lr=${formatLr(g.lr)}`;
}

/** Trailing moving average over `window` points (window 1 = unchanged). */
export function movingAverage(xs: readonly number[], window: number): number[] {
  let sum = 0;
  return xs.map((x, i) => {
    sum += x;
    if (i >= window) sum -= xs[i - window];
    return sum / Math.min(i + 1, window);
  });
}

/**
 * Mean and std over seeds of a per-step series, at the steps every seed logged; each run's series is first smoothed
 * with a trailing moving average of `smooth` points (batch noise hides the trend otherwise).
 */
export function seedBand(runs: readonly RunResult[], value: (m: RunResult['train_info']['metrics'][number]) => number | undefined, smooth = 1): { x: number[]; mean: number[]; std: number[] } {
  const perRun = runs.map((r) => {
    const pts = r.train_info.metrics.flatMap((s) => {
      const v = value(s);
      return typeof v === 'number' && Number.isFinite(v) ? [[s.step, v] as const] : [];
    });
    const sm = movingAverage(pts.map((p) => p[1]), smooth);
    return new Map(pts.map((p, i) => [p[0], sm[i]]));
  });
  if (perRun.length === 0) return { x: [], mean: [], std: [] };
  const steps = [...perRun[0].keys()].filter((s) => perRun.every((m) => m.has(s))).sort((a, b) => a - b);
  const mean: number[] = [];
  const std: number[] = [];
  for (const s of steps) {
    const v = perRun.map((m) => m.get(s)!);
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    mean.push(mu);
    std.push(v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length - 1)) : 0);
  }
  return { x: steps, mean, std };
}

function runsOf(runs: readonly RunResult[], g: SummaryRow): RunResult[] {
  return runs.filter((r) => r.train_info.status === 'ok' && groupOf(r.run_info.variant) === g.group);
}

/** Mean curve plus a ±1 std band per group; `maxStep` cuts to the first steps. */
function curveFigure(id: string, title: string, caption: string, groups: readonly SummaryRow[], runs: readonly RunResult[], what: 'train' | 'eval', maxStep = Infinity, smooth = 1): NamedFigure | null {
  const colors = palette(groups);
  const data: Record<string, unknown>[] = [];
  for (const g of groups) {
    const band = seedBand(runsOf(runs, g), (m) => (what === 'train' ? m.train_loss : m.eval_loss), smooth);
    const keep = band.x.map((s, i) => i).filter((i) => band.x[i] <= maxStep);
    if (keep.length === 0) continue;
    const x = keep.map((i) => band.x[i]);
    const mu = keep.map((i) => band.mean[i]);
    const up = keep.map((i) => band.mean[i] + band.std[i]);
    const dn = keep.map((i) => band.mean[i] - band.std[i]);
    const c = colors.get(g.group)!;
    data.push({ type: 'scatter', mode: 'lines', x: [...x, ...x.slice().reverse()], y: [...up, ...dn.reverse()], fill: 'toself', fillcolor: rgba(c, 0.15), line: { width: 0 }, hoverinfo: 'skip', showlegend: false, legendgroup: g.group });
    data.push({ type: 'scatter', mode: what === 'eval' ? 'lines+markers' : 'lines', x, y: mu, name: `${groupName(g)} (n=${g.n_ok})`, line: { color: c, width: 2 }, legendgroup: g.group });
  }
  if (data.length === 0) return null;
  return {
    id,
    title,
    caption,
    figure: { data, layout: { title: { text: title }, xaxis: { title: { text: 'step' } }, yaxis: { title: { text: what === 'train' ? 'training loss' : 'held-out loss' } }, legend: { orientation: 'h', y: -0.2 } } },
  };
}

/** Mean ± CI of a metric against x, one trace per series (colours keyed by series); groups with no data are left out. */
function errorScatter(groups: readonly SummaryRow[], key: MetricKey, xOf: (g: SummaryRow) => number | null, seriesOf: SeriesOf, colors: Map<string, string>, axes: { xaxis?: string; yaxis?: string } = {}): Record<string, unknown>[] {
  const m = metricDef(key);
  const series = new Map<string, SummaryRow[]>();
  for (const g of groups) {
    if (xOf(g) === null || !(g.stats[key].n > 0)) continue;
    const k = seriesOf(g);
    series.set(k, [...(series.get(k) ?? []), g]);
  }
  return [...series.entries()].map(([k, gs]) => {
    gs.sort((a, b) => xOf(a)! - xOf(b)!);
    return {
      type: 'scatter',
      mode: gs.length > 1 ? 'lines+markers' : 'markers',
      name: k,
      x: gs.map((g) => xOf(g)),
      y: gs.map((g) => g.stats[key].mean * m.scale),
      error_y: { type: 'data', array: gs.map((g) => (Number.isFinite(g.stats[key].ci95) ? g.stats[key].ci95 * m.scale : 0)), visible: true },
      text: gs.map((g) => `${groupName(g)}, ${formatCount(g.params)} params, n=${g.stats[key].n}`),
      marker: { color: colors.get(k), size: 9 },
      line: { color: colors.get(k) },
      legendgroup: k,
      ...axes,
    };
  });
}

/**
 * Panels side by side, one per metric, of mean ± CI against x (log axis), one line per series; the legend is shown
 * once.
 */
export function metricPanels(groups: readonly SummaryRow[], keys: readonly MetricKey[], xOf: (g: SummaryRow) => number | null, xTitle: string, seriesOf: SeriesOf): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const colors = palette(groups, seriesOf);
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = { grid: { rows: 1, columns: keys.length, pattern: 'independent' }, legend: { orientation: 'h', y: -0.25 } };
  keys.forEach((k, i) => {
    const ax = i === 0 ? '' : String(i + 1);
    const traces = errorScatter(groups, k, xOf, seriesOf, colors, { xaxis: `x${ax}`, yaxis: `y${ax}` });
    if (i > 0) traces.forEach((t) => (t.showlegend = false));
    data.push(...traces);
    layout[`xaxis${ax}`] = { title: { text: xTitle }, type: 'log' };
    layout[`yaxis${ax}`] = { title: { text: metricDef(k).title } };
  });
  return { data, layout };
}

/** Several metrics against r, one line per method (and lr). Null unless some method has ≥ 2 ranks. */
function blockSizeFigure(groups: readonly SummaryRow[]): NamedFigure | null {
  const swept = groups.some((g) => groups.filter((h) => h.label === g.label && h.lr === g.lr && h.r !== null).length >= 2);
  if (!swept) return null;
  const keys = (['eval_loss', 'accuracy', 'step_ms'] as MetricKey[]).filter((k) => groups.some((g) => g.stats[k].n > 0));
  const { data, layout } = metricPanels(groups, keys, (g) => g.r, 'r (block size / rank)', byMethodAndLr);
  const title = 'Block size / rank ablation';
  return { id: 'block-size', title, caption: 'Mean over seeds with 95% CI error bars, per method, against r (log axis).', figure: { data, layout: { ...layout, title: { text: title } } } };
}

/** Quality against trainable parameters: accuracy and held-out loss, one point per configuration. */
function paramsFigure(groups: readonly SummaryRow[]): NamedFigure | null {
  const keys = (['accuracy', 'eval_loss'] as MetricKey[]).filter((k) => groups.some((g) => g.stats[k].n > 0 && g.params !== null));
  if (keys.length === 0) return null;
  const { data, layout } = metricPanels(groups, keys, (g) => g.params, 'trainable parameters', groupName);
  const title = 'Accuracy and held-out loss vs trainable parameters';
  return { id: 'accuracy-vs-params', title, caption: 'Mean over seeds with 95% CI error bars; x is the trainable parameter count (log axis).', figure: { data, layout: { ...layout, title: { text: title } } } };
}

/** Initial gradient norm against r; methods without a rank (full fine-tuning) as flat dashed lines. */
function gradNormFigure(groups: readonly SummaryRow[]): NamedFigure | null {
  const withR = groups.filter((g) => g.r !== null && g.stats.init_grad_norm.n > 0);
  if (withR.length === 0) return null;
  const colors = palette(groups, byMethodAndLr);
  const data = errorScatter(groups, 'init_grad_norm', (g) => g.r, byMethodAndLr, colors);
  const rs = withR.map((g) => g.r!);
  const [lo, hi] = [Math.min(...rs), Math.max(...rs)];
  for (const g of groups.filter((h) => h.r === null && h.stats.init_grad_norm.n > 0)) {
    data.push({ type: 'scatter', mode: 'lines', name: groupName(g), x: [lo, hi], y: [g.stats.init_grad_norm.mean, g.stats.init_grad_norm.mean], line: { dash: 'dash', color: colors.get(byMethodAndLr(g)) } });
  }
  return {
    id: 'grad-norm-vs-rank',
    title: 'Initial gradient norm vs rank',
    caption: 'Norm of the gradient of the trainable parameters at step 0 (mean over seeds, 95% CI), against r; full fine-tuning is flat.',
    figure: { data, layout: { title: { text: 'Initial gradient norm vs rank' }, xaxis: { title: { text: 'r' }, type: 'log' }, yaxis: { title: { text: 'initial gradient norm' } }, legend: { orientation: 'h', y: -0.2 } } },
  };
}

/** Step time and peak memory per configuration (bars with CI). */
function costFigure(groups: readonly SummaryRow[]): NamedFigure | null {
  const keys: MetricKey[] = (['step_ms', 'peak_mb'] as MetricKey[]).filter((k) => groups.some((g) => g.stats[k].n > 0));
  if (keys.length === 0) return null;
  const colors = palette(groups);
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = { title: { text: 'Cost per method' }, grid: { rows: 1, columns: keys.length, pattern: 'independent' }, showlegend: false };
  keys.forEach((k, i) => {
    const ax = i === 0 ? '' : String(i + 1);
    const gs = groups.filter((g) => g.stats[k].n > 0);
    data.push({
      type: 'bar',
      x: gs.map(groupName),
      y: gs.map((g) => g.stats[k].mean),
      error_y: { type: 'data', array: gs.map((g) => (Number.isFinite(g.stats[k].ci95) ? g.stats[k].ci95 : 0)), visible: true },
      marker: { color: gs.map((g) => colors.get(g.group)) },
      xaxis: `x${ax}`,
      yaxis: `y${ax}`,
    });
    layout[`yaxis${ax}`] = { title: { text: metricDef(k).title } };
  });
  return { id: 'cost', title: 'Step time and peak memory per method', caption: 'Median step time and peak resident memory of the training process (mean over seeds, 95% CI).', figure: { data, layout } };
}

/** Every figure the data supports, in report order. */
export function buildFigures(groups: readonly SummaryRow[], runs: readonly RunResult[]): NamedFigure[] {
  const maxStep = Math.max(0, ...runs.flatMap((r) => r.train_info.metrics.map((m) => m.step)));
  const early = Math.max(5, Math.min(100, Math.ceil(maxStep * 0.25)));
  const smooth = Math.max(1, Math.round(maxStep / 40));
  const figs = [
    curveFigure('loss-curves', 'Training loss', `Mean training loss over seeds per step, each run smoothed over ${smooth} step(s), with a ±1 std band.`, groups, runs, 'train', Infinity, smooth),
    curveFigure('loss-curves-early', `Training loss, first ${early} steps`, 'The start of training, where Bone is claimed to pull ahead (unsmoothed).', groups, runs, 'train', early),
    curveFigure('eval-loss-curves', 'Held-out loss during training', 'Mean held-out loss over seeds at each evaluation, with a ±1 std band.', groups, runs, 'eval'),
    blockSizeFigure(groups),
    paramsFigure(groups),
    gradNormFigure(groups),
    costFigure(groups),
  ];
  return figs.filter((f): f is NamedFigure => f !== null);
}
