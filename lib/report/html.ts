/** report.html: one page per experiment with its tables, the paper-vs-kit verdicts and every figure (plotly once). */
import type { RunResult } from '../experiments/types';
import type { ClaimResult } from './claims';
import { VERDICT_RULE } from './claims';
import { NamedFigure, escapeHtml, figureDiv, htmlPage } from './plotly';
import type { TextTable } from './tables';

export function textTableHtml(t: TextTable, verdictColumn = -1): string {
  const cls = (i: number) => (t.numeric[i] ? '' : ' class="l"');
  const verdictClass = (v: string) => (v === 'holds' ? 'holds' : v === 'does not hold' ? 'fails' : 'inconclusive');
  const head = `<tr>${t.columns.map((c, i) => `<th${cls(i)}>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((row) => `<tr>${row.map((c, i) => (i === verdictColumn ? `<td class="l ${verdictClass(c)}">${escapeHtml(c)}</td>` : `<td${cls(i)}>${escapeHtml(c)}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<p class="caption">${escapeHtml(t.caption)}</p>\n<table>\n${head}\n${body}\n</table>`;
}

export function claimsTextTable(claims: readonly ClaimResult[]): TextTable {
  return {
    columns: ['claim', 'paper', 'kit (this run)', 'verdict'],
    numeric: [false, false, false, false],
    rows: claims.map((c) => [c.claim, c.paper, c.kit, c.verdict]),
    caption: `Paper versus kit. ${VERDICT_RULE}`,
  };
}

export interface ReportPageInput {
  name: string;
  description: string;
  summary: TextTable;
  claims: readonly ClaimResult[];
  figures: readonly NamedFigure[];
  runs: readonly RunResult[];
  runsTable: TextTable;
  /** Files that could not be read as results. */
  problems: { file: string; error: string }[];
}

export function reportPage(p: ReportPageInput): string {
  const first = p.runs[0];
  const meta = first
    ? `backend <code>${escapeHtml(first.meta_info.backend)}</code>, tfjs ${escapeHtml(first.meta_info.tfjs_version)}, Node ${escapeHtml(first.meta_info.node_version)}, ${escapeHtml(first.meta_info.platform)}, ${first.meta_info.cpus} cpus, commit <code>${escapeHtml(first.run_info.git_sha ?? 'unknown')}</code>`
    : 'no runs';
  const bad = p.runs.filter((r) => r.train_info.status !== 'ok');
  const parts = [
    `<h1>${escapeHtml(p.name)}</h1>`,
    p.description ? `<p>${escapeHtml(p.description)}</p>` : '',
    `<p class="caption">${p.runs.length} runs; ${meta}. Generated ${escapeHtml(new Date().toISOString())} from the result files in <code>runs/</code>.</p>`,
    '<h2>Summary</h2>',
    textTableHtml(p.summary),
    p.claims.length ? '<h2>Paper versus kit</h2>' + textTableHtml(claimsTextTable(p.claims), 3) : '',
    p.figures.length ? '<h2>Figures</h2>' : '',
    ...p.figures.map((f) => `<h3>${escapeHtml(f.title)}</h3>\n<p class="caption">${escapeHtml(f.caption)}</p>\n${figureDiv(f.figure, `fig-${f.id}`)}`),
    bad.length ? '<h2>Runs that did not finish</h2><ul>' + bad.map((r) => `<li><code>${escapeHtml(r.run_info.variant)}</code>: ${escapeHtml(r.train_info.status)}${r.run_info.error_msg ? ` — <pre>${escapeHtml(r.run_info.error_msg.slice(-1500))}</pre>` : ''}</li>`).join('\n') + '</ul>' : '',
    p.problems.length ? '<h2>Unreadable result files</h2><ul>' + p.problems.map((x) => `<li><code>${escapeHtml(x.file)}</code>: ${escapeHtml(x.error)}</li>`).join('\n') + '</ul>' : '',
    '<h2>All runs</h2>',
    textTableHtml(p.runsTable),
    first ? `<h2>Configuration of the first run</h2><pre>${escapeHtml(JSON.stringify(first.run_info.config, null, 2))}</pre>` : '',
  ];
  return htmlPage(`${p.name}: bonelab report`, parts.filter(Boolean).join('\n'), p.figures.length > 0);
}
