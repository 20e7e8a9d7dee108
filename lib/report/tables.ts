/**
 * Tables out of summaries: CSV with every number (means, stds, CI bounds), and Markdown / LaTeX (booktabs) with
 * `mean ± CI half-width` cells for reading. Written as tables/<name>.{csv,md,tex}.
 */
import * as aq from 'arquero';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/fs';
import { formatLr } from '../experiments/naming';
import type { RunRow } from './rows';
import type { Stat } from './stats';
import { METRICS, MetricDef, SummaryRow } from './summary';

/** A table for reading: column titles and string cells. */
export interface TextTable {
  columns: string[];
  rows: string[][];
  /** Which columns hold numbers (right-aligned). */
  numeric: boolean[];
  caption: string;
}

export const CI_NOTE = 'mean ± half-width of the 95% confidence interval over seeds (Student t, n-1 df)';

/** 4096 -> 4.1k, 87031808 -> 87.03M. */
export function formatCount(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a < 1e3) return String(n);
  if (a < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}

/** `12.3 ± 2.1`, `12.3` with one seed, `–` with none. */
export function formatStat(s: Stat, m: Pick<MetricDef, 'scale' | 'digits'>): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '–';
  const mean = (s.mean * m.scale).toFixed(m.digits);
  if (!Number.isFinite(s.ci95)) return mean;
  return `${mean} ± ${(s.ci95 * m.scale).toFixed(m.digits)}`;
}

function seedsCell(r: SummaryRow): string {
  const extra = [r.n_diverged ? `${r.n_diverged} diverged` : '', r.n_failed ? `${r.n_failed} failed` : ''].filter(Boolean).join(', ');
  return `${r.n_ok}/${r.n_runs}${extra ? ` (${extra})` : ''}`;
}

/** The summary for reading: method, r, lr, params, seeds, then each metric with data. */
export function summaryTextTable(summary: readonly SummaryRow[], caption: string, metrics: readonly MetricDef[] = METRICS): TextTable {
  const shown = metrics.filter((m) => summary.some((r) => r.stats[m.key].n > 0));
  return {
    columns: ['method', 'r', 'lr', 'params', 'seeds ok', ...shown.map((m) => m.title)],
    numeric: [false, true, true, true, true, ...shown.map(() => true)],
    rows: summary.map((r) => [r.label, r.r === null ? '–' : String(r.r), formatLr(r.lr), formatCount(r.params), seedsCell(r), ...shown.map((m) => formatStat(r.stats[m.key], m))]),
    caption: `${caption}. Cells: ${CI_NOTE}. Only runs with status ok enter the statistics.`,
  };
}

/** Every number of the summary, one column per statistic (CSV). */
export function summaryCsvTable(summary: readonly SummaryRow[]): aq.ColumnTable {
  return aq.from(
    summary.map((r) => {
      const o: Record<string, unknown> = { method: r.label, kind: r.kind, r: r.r, lr: r.lr, params: r.params, n_runs: r.n_runs, n_ok: r.n_ok, n_diverged: r.n_diverged, n_failed: r.n_failed };
      for (const m of METRICS) {
        const s = r.stats[m.key];
        for (const k of ['n', 'mean', 'std', 'ci95', 'lo', 'hi'] as const) o[`${m.key}_${k}`] = Number.isFinite(s[k]) ? s[k] : null;
      }
      return o;
    }),
  );
}

/** Every run, one row each (CSV). */
export function runsCsvTable(rows: readonly RunRow[]): aq.ColumnTable {
  return aq.from(rows.map((r) => ({ ...r, error: r.error ? r.error.split('\n').filter(Boolean).slice(-1)[0] ?? '' : '' })));
}

/** Markdown through arquero (pipes in cells escaped). */
export function toMarkdownText(t: TextTable): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const table = aq.from(t.rows.map((row) => Object.fromEntries(t.columns.map((c, i) => [esc(c), esc(row[i])]))));
  const align = Object.fromEntries(t.columns.map((c, i) => [esc(c), t.numeric[i] ? 'r' : 'l'])) as Record<string, 'l' | 'r'>;
  return `${t.caption}\n\n${table.toMarkdown({ align })}`;
}

export function latexEscape(s: string): string {
  return s
    .replace(/\\/g, '\\textbackslash{}')
    .replace(/([&%$#_{}])/g, '\\$1')
    .replace(/~/g, '\\textasciitilde{}')
    .replace(/\^/g, '\\textasciicircum{}')
    .replace(/±/g, '$\\pm$')
    .replace(/–/g, '--')
    .replace(/≥/g, '$\\geq$')
    .replace(/≫/g, '$\\gg$')
    .replace(/×/g, '$\\times$');
}

/** A booktabs table environment (needs \usepackage{booktabs}). */
export function toLatex(t: TextTable, label: string): string {
  const spec = t.numeric.map((n) => (n ? 'r' : 'l')).join('');
  const line = (cells: string[]) => `  ${cells.map(latexEscape).join(' & ')} \\\\`;
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexEscape(t.caption)}}`,
    `\\label{tab:${label.replace(/[^A-Za-z0-9:-]/g, '-')}}`,
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    line(t.columns),
    '\\midrule',
    ...t.rows.map(line),
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
    '',
  ].join('\n');
}

/** Write tables/<name>.csv (from `csv`), .md and .tex (from `text`); returns the three paths. */
export function writeTable(dir: string, name: string, csv: aq.ColumnTable, text: TextTable): string[] {
  const base = path.join(dir, 'tables', name);
  writeFileAtomic(`${base}.csv`, csv.toCSV() + '\n');
  writeFileAtomic(`${base}.md`, toMarkdownText(text) + '\n');
  writeFileAtomic(`${base}.tex`, toLatex(text, name));
  return [`${base}.csv`, `${base}.md`, `${base}.tex`];
}
