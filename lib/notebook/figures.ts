/**
 * Figures some notebooks need beyond the report's set, built from the same per-configuration summaries (mean over
 * seeds with 95% CI error bars): quality against cost (Bone vs Bat), and quality against learning rate.
 */
import type { RunResult } from '../experiments/types';
import { metricPanels } from '../report/figures';
import type { MetricKey, SummaryRow } from '../report/summary';
import { metricDef } from '../report/summary';
import type { FigureSpec } from './display';

/** Mean and CI half-width of a metric in display units (NaN when the group has no finished run). */
function point(g: SummaryRow, key: MetricKey): { y: number; e: number } {
  const s = g.stats[key];
  const scale = metricDef(key).scale;
  return { y: s.mean * scale, e: Number.isFinite(s.ci95) ? s.ci95 * scale : 0 };
}

function groupLabel(g: SummaryRow): string {
  return `${g.label}${g.r !== null ? ` r=${g.r}` : ''}`;
}

/** One point per configuration: quality (y) against step time and against peak memory (two panels). */
export function qualityVsCostFigure(summary: readonly SummaryRow[], quality: MetricKey = 'eval_loss'): FigureSpec {
  const costs: MetricKey[] = ['step_ms', 'peak_mb'];
  const data = costs.flatMap((c, i) =>
    summary.map((g) => {
      const x = point(g, c);
      const y = point(g, quality);
      return {
        type: 'scatter', mode: 'markers', name: groupLabel(g), legendgroup: g.group, showlegend: i === 0,
        x: [x.y], y: [y.y], error_x: { type: 'data', array: [x.e] }, error_y: { type: 'data', array: [y.e] },
        xaxis: i === 0 ? 'x' : 'x2', yaxis: i === 0 ? 'y' : 'y2', marker: { size: 10 },
      };
    }),
  );
  return {
    data,
    layout: {
      title: { text: `${metricDef(quality).title} against cost (mean over seeds, 95% CI)` },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: metricDef('step_ms').title } },
      xaxis2: { title: { text: metricDef('peak_mb').title } },
      yaxis: { title: { text: metricDef(quality).title } },
      yaxis2: { title: { text: metricDef(quality).title } },
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}

/**
 * Quality against learning rate, one line per method and r (panels: each metric given), as the report's metric
 * panels: kind colours, configurations without a finished run left out.
 */
export function learningRateFigure(summary: readonly SummaryRow[], metrics: readonly MetricKey[] = ['eval_loss', 'accuracy']): FigureSpec {
  const { data, layout } = metricPanels(summary, metrics, (g) => g.lr, 'learning rate', groupLabel);
  return { data, layout: { ...layout, title: { text: 'Sensitivity to the learning rate (mean over seeds, 95% CI)' } } };
}

/** Training loss per step (and held-out loss where evaluated) of one run. */
export function runCurveFigure(result: RunResult): FigureSpec {
  const m = result.train_info.metrics;
  const evals = m.filter((x) => typeof x.eval_loss === 'number');
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: 'training loss', x: m.map((x) => x.step), y: m.map((x) => x.train_loss) },
      { type: 'scatter', mode: 'lines+markers', name: 'held-out loss', x: evals.map((x) => x.step), y: evals.map((x) => x.eval_loss) },
    ],
    layout: {
      title: { text: `${result.run_info.variant}: loss per step` },
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'loss' } },
    },
  };
}
