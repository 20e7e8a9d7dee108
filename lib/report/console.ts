/** Plain-text renderings for the terminal: aligned tables and the paper-vs-kit verdict list. */
import * as path from 'node:path';
import type { Report } from './build';
import type { ClaimResult } from './claims';
import { METRICS } from './summary';
import { CI_NOTE, summaryTextTable, type TextTable } from './tables';

/** Columns padded to their widest cell; numbers right-aligned. */
export function renderTextTable(t: TextTable): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (t.numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

/** One block per claim: verdict, claim, then the paper's number and the kit's measurement. */
export function renderClaims(claims: readonly ClaimResult[]): string {
  const w = Math.max(...claims.map((c) => Math.min(c.verdict.length, 13)));
  return claims
    .map((c) => {
      const tag = c.verdict.startsWith('inconclusive') ? 'inconclusive' : c.verdict;
      const why = c.verdict.startsWith('inconclusive: ') ? `  [${c.verdict.slice('inconclusive: '.length)}]` : '';
      return [`  ${tag.padEnd(w)}  ${c.claim}${why}`, `  ${''.padEnd(w)}    paper: ${c.paper}`, `  ${''.padEnd(w)}    kit:   ${c.kit}`].join('\n');
    })
    .join('\n');
}

/** What a built report says on a terminal: the summary table, the verdicts and where the files are. */
export function reportText(rep: Report, cwd = process.cwd()): string {
  const rel = (p: string) => path.relative(cwd, p) || '.';
  const figs = rep.files.filter((f) => f.includes(`${path.sep}figures${path.sep}`));
  // The terminal gets the headline columns; every metric is in tables/summary.* and report.html.
  const shown = METRICS.filter((m) => m.key !== 'early_loss');
  const out = [renderTextTable(summaryTextTable(rep.summary, `${rep.name}: results per configuration`, shown)), ''];
  out.push(`  (${CI_NOTE}; accuracy is exact match on held-out problems)`, '');
  if (rep.claims.length) out.push('Paper versus kit (95% CIs over seeds; overlapping CIs = inconclusive):', renderClaims(rep.claims), '');
  out.push(
    `Written to ${rel(rep.expDir)}/:`,
    `  report.html            tables, verdicts and ${figs.length} figures in one offline page`,
    `  tables/                summary, runs${rep.claims.length ? ', claims' : ''} as .csv, .md, .tex`,
    `  figures/               ${figs.map((f) => path.basename(f, '.html')).join(', ')} (.html)`,
    `  runs/                  one result JSON per run`,
  );
  if (rep.ignored.length) out.push(`  (${rep.ignored.length} result files from an earlier grid spec were not included)`);
  return out.join('\n');
}
