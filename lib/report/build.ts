/**
 * Build an experiment's report from its folder: tables (CSV, Markdown, LaTeX), one self-contained HTML file per figure,
 * the paper-vs-kit claims, and report.html. Everything is read back from the result files.
 */
import * as aq from 'arquero';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeFileAtomic } from '../util/fs';
import { readCurrentRunResults } from '../results/read';
import { ClaimResult, evaluateClaims } from './claims';
import { buildFigures } from './figures';
import { claimsTextTable, reportPage } from './html';
import { figurePage, NamedFigure } from './plotly';
import { RunRow, runRow } from './rows';
import { SummaryRow, summarizeRuns } from './summary';
import { TextTable, formatCount, runsCsvTable, summaryCsvTable, summaryTextTable, writeTable } from './tables';

/** The manifest a grid writes (grid.json): which cells belong to the experiment now. */
export interface GridManifest {
  name: string;
  description: string;
  claims: string[];
  cells: { variant: string; group: string; label: string }[];
}

export interface Report {
  expDir: string;
  name: string;
  rows: RunRow[];
  summary: SummaryRow[];
  claims: ClaimResult[];
  figures: NamedFigure[];
  /** Every file written. */
  files: string[];
  /** Result files not in the grid's current cell list (left from an earlier spec), not reported. */
  ignored: string[];
}

function runsTextTable(rows: readonly RunRow[]): TextTable {
  const f = (x: number | null, d: number, s = 1) => (x === null ? '–' : (x * s).toFixed(d));
  return {
    columns: ['variant', 'status', 'params', 'accuracy (%)', 'eval loss', 'final loss', 'step (ms)', 'peak RSS (MB)', 'init grad norm', 'wall (s)'],
    numeric: [false, false, true, true, true, true, true, true, true, true],
    rows: rows.map((r) => [r.variant, r.status, formatCount(r.params), f(r.accuracy, 1, 100), f(r.eval_loss, 3), f(r.final_loss, 3), f(r.step_ms, 0), f(r.peak_mb, 0), f(r.init_grad_norm, 3), f(r.wall_s, 0)]),
    caption: 'Every run (final loss: mean training loss over the last 10% of logged steps).',
  };
}

/** Read an experiment folder and write its tables, figures and report.html. */
export function buildReport(expDir: string): Report {
  if (!fs.existsSync(expDir)) throw new Error(`report: no results folder ${expDir}`);
  const manifestFile = path.join(expDir, 'grid.json');
  const manifest = fs.existsSync(manifestFile) ? readJson<GridManifest>(manifestFile) : null;
  const name = manifest?.name ?? path.basename(expDir);
  const { results: runs, problems, ignored } = readCurrentRunResults(expDir);
  if (runs.length === 0) throw new Error(`report: no run results in ${path.join(expDir, 'runs')}${ignored.length ? ` for the current grid (${ignored.length} older ones ignored)` : ''}`);
  const rows = runs.map(runRow);
  const summary = summarizeRuns(rows);
  const claims = evaluateClaims(summary, runs, manifest?.claims?.length ? manifest.claims : undefined);
  const figures = buildFigures(summary, runs);

  const files: string[] = [];
  const summaryText = summaryTextTable(summary, `${name}: results per configuration`);
  files.push(...writeTable(expDir, 'summary', summaryCsvTable(summary), summaryText));
  const runsText = runsTextTable(rows);
  files.push(...writeTable(expDir, 'runs', runsCsvTable(rows), runsText));
  if (claims.length) {
    const ct = claimsTextTable(claims);
    files.push(...writeTable(expDir, 'claims', aq.from(claims), ct));
  }
  // Figures from an earlier build that the data no longer supports would mislead: clear the folder first.
  const figDir = path.join(expDir, 'figures');
  fs.rmSync(figDir, { recursive: true, force: true });
  for (const f of figures) {
    const file = path.join(figDir, `${f.id}.html`);
    writeFileAtomic(file, figurePage(f));
    files.push(file);
  }
  const reportFile = path.join(expDir, 'report.html');
  writeFileAtomic(reportFile, reportPage({ name, description: manifest?.description ?? '', summary: summaryText, claims, figures, runs, runsTable: runsText, problems }));
  files.push(reportFile);
  return { expDir, name, rows, summary, claims, figures, files, ignored };
}
