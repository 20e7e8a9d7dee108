/**
 * The grid notebooks' two steps: run an experiment file's preset for the notebook's setting (smoke or full) into the
 * notebook's results folder, resumably, then show its report (summary table, figures, paper-vs-kit claims), all
 * built by lib/report from the result files read back.
 */
import * as path from 'node:path';
import { applyPreset, expandGrid, findExperimentFile, readExperimentFile, type GridAxes, type GridCell, type GridSpec } from '../experiments/grid-spec';
import { gridSummaryText, runGrid, type GridSummary } from '../experiments/grid';
import { buildReport, type Report } from '../report/build';
import { claimsTextTable, textTableHtml } from '../report/html';
import type { NamedFigure } from '../report/plotly';
import { summaryTextTable } from '../report/tables';
import { showFigure, showHtml, showMarkdown } from './display';
import type { NotebookContext } from './setup';

export interface ExperimentOptions {
  /** Partial ExperimentConfig layers applied on top of the preset's base (e.g. a checkpoint folder). */
  overrides?: Record<string, unknown>[];
  /** Axes that replace the preset's (the notebook's own layer of the experiment, e.g. more methods). */
  axes?: GridAxes;
  /** Concurrent worker processes (default: the grid's, min(2, cores)). */
  jobs?: number;
  /** Kill one run after this many seconds (recorded as failed). */
  cellTimeoutS?: number;
}

export interface ExperimentRun {
  spec: GridSpec;
  cells: GridCell[];
  summary: GridSummary;
  report: Report;
}

/**
 * The grid an experiment file defines for this notebook's setting (preset `smoke` or `full`), with the context's axes
 * (the smoke setting's single seed) and then the notebook's own on top.
 */
export function experimentGrid(ctx: NotebookContext, experiment: string, opts: Pick<ExperimentOptions, 'overrides' | 'axes'> = {}): { spec: GridSpec; cells: GridCell[] } {
  const preset = applyPreset(readExperimentFile(findExperimentFile(experiment)), ctx.setting);
  const axes: GridAxes = { ...preset.axes };
  for (const layer of [ctx.axes, opts.axes ?? {}]) for (const [k, v] of Object.entries(layer)) if (v !== undefined) (axes as Record<string, unknown>)[k] = v;
  const spec = { ...preset, axes };
  return { spec, cells: expandGrid(spec, opts.overrides ?? []) };
}

/**
 * Run (or resume: finished runs with the same config are kept) the grid into <resultsDir>/<grid name>/ and build its
 * report. One line per finished run is printed.
 */
export async function runExperiment(ctx: NotebookContext, experiment: string, opts: ExperimentOptions = {}): Promise<ExperimentRun> {
  const { spec, cells } = experimentGrid(ctx, experiment, opts);
  console.log(`${spec.name}: ${cells.length} runs (${ctx.setting} preset of ${experiment})`);
  const summary = await runGrid(spec, cells, {
    resultsRoot: ctx.resultsDir,
    jobs: opts.jobs,
    cellTimeoutS: opts.cellTimeoutS,
    quiet: true,
    log: (line) => console.log(line),
  });
  console.log(gridSummaryText(summary));
  const report = buildReport(summary.expDir);
  console.log(`report: ${path.relative(process.cwd(), path.join(summary.expDir, 'report.html'))}`);
  return { spec, cells, summary, report };
}

/** Verdict colours for the claims table (Jupyter's own table styling does the rest). */
const STYLE = `<style>.bonelab-report td.holds { color: #1a7f37; font-weight: 600; } .bonelab-report td.fails { color: #c62828; font-weight: 600; }
.bonelab-report td.inconclusive { color: #8a6d00; } .bonelab-report td.l, .bonelab-report th.l { text-align: left; }
.bonelab-report .caption { color: #555; font-size: 90%; }</style>`;

/** The summary over seeds: one row per configuration, mean ± 95% CI. */
export function showSummary(report: Report, caption = `${report.name}: results per configuration`): void {
  showHtml(`${STYLE}<div class="bonelab-report">${textTableHtml(summaryTextTable(report.summary, caption))}</div>`);
}

/** The report's figures (all, or the given ids in that order), each with its caption. */
export function showReportFigures(report: Report, ids?: readonly string[]): void {
  const figs = ids ? ids.map((id) => report.figures.find((f) => f.id === id)).filter((f): f is NamedFigure => f !== undefined) : report.figures;
  for (const f of figs) {
    showFigure(f.figure);
    showMarkdown(`*${f.title}.* ${f.caption}`);
  }
}

/** Paper versus kit: the claims table and a one-line count of verdicts. */
export function showClaims(report: Report): void {
  if (report.claims.length === 0) {
    showMarkdown('**Verdict**: this grid produced no data for any paper claim (see the summary table).');
    return;
  }
  showHtml(`${STYLE}<div class="bonelab-report">${textTableHtml(claimsTextTable(report.claims), 3)}</div>`);
  const count = (v: (s: string) => boolean) => report.claims.filter((c) => v(c.verdict)).length;
  const holds = count((s) => s === 'holds');
  const fails = count((s) => s === 'does not hold');
  const open = report.claims.length - holds - fails;
  showMarkdown(`**Verdict** (${report.name}, ${report.rows.length} runs): ${holds} of ${report.claims.length} claims hold, ${fails} do not, ${open} inconclusive at this scale and seed count.`);
}
