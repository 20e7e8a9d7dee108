/**
 * Rich output for notebooks: HTML, markdown, arquero tables and offline plotly figures, through tslab's display
 * API. Outside a kernel (a script importing the same code) each call falls back to plain text on stdout.
 */
import * as tslab from 'tslab';
import { from, toHTML, toMarkdown, type Table } from 'arquero';
import { escapeHtml, figureSpecScript, plotlyBundleScript, type FigureSpec } from '../report/plotly';

export type { FigureSpec } from '../report/plotly';

export interface TableOptions {
  /** Caption shown above the table (plain text). */
  caption?: string;
  /** Maximum fractional digits for numbers (arquero maxdigits). */
  digits?: number;
  /** Maximum rows shown. */
  limit?: number;
  /** Columns to show, in order. */
  columns?: string[];
  /** Columns printed in exponent notation (tiny errors such as 1.2e-7). */
  exponent?: string[];
}

/** Arquero format options for the exponent columns. */
function formats(opts: TableOptions): Record<string, (v: unknown) => string> {
  const out: Record<string, (v: unknown) => string> = {};
  for (const c of opts.exponent ?? []) out[c] = (v) => (typeof v === 'number' ? v.toExponential(1) : String(v));
  return out;
}

function tryDisplay(mime: 'html' | 'markdown', content: string, fallback: string): void {
  try {
    tslab.display[mime](content);
  } catch (e) {
    // tslab throws 'Not ready' when no kernel (or headless executor) installed its display hook.
    if ((e as Error).message !== 'Not ready') throw e;
    console.log(fallback);
  }
}

export function showHtml(html: string): void {
  tryDisplay('html', html, html.replace(/<[^>]+>/g, ''));
}

export function showMarkdown(md: string): void {
  tryDisplay('markdown', md, md);
}

function isTable(t: Table | readonly object[]): t is Table {
  return !Array.isArray(t);
}

/** Render an arquero table (or plain row objects) as an HTML table. */
export function tableHtml(table: Table | readonly object[], opts: TableOptions = {}): string {
  const t: Table = isTable(table) ? table : from(table as object[]);
  const body = toHTML(t, {
    limit: opts.limit ?? Infinity,
    maxdigits: opts.digits ?? 4,
    format: formats(opts),
    ...(opts.columns ? { columns: opts.columns } : {}),
    style: { table: 'border-collapse: collapse; font-size: 90%;', th: 'padding: 2px 8px; border-bottom: 1px solid #888;', td: 'padding: 2px 8px;' },
  });
  const caption = opts.caption ? `<div style="font-weight: bold; margin: 4px 0;">${escapeHtml(opts.caption)}</div>` : '';
  const more = opts.limit !== undefined && t.numRows() > opts.limit ? `<div>(${opts.limit} of ${t.numRows()} rows)</div>` : '';
  return caption + body + more;
}

/** Show a table; the plain-text fallback is arquero's markdown rendering. */
export function showTable(table: Table | readonly object[], opts: TableOptions = {}): void {
  const t: Table = isTable(table) ? table : from(table as object[]);
  const md = toMarkdown(t, { limit: opts.limit ?? Infinity, maxdigits: opts.digits ?? 4, format: formats(opts), ...(opts.columns ? { columns: opts.columns } : {}) });
  tryDisplay('html', tableHtml(t, opts), (opts.caption ? `${opts.caption}\n` : '') + md);
}

/** Process-wide: the plotly bundle is embedded with the first figure only (one kernel process = one notebook). */
let plotlyEmitted = false;
let figureCount = 0;

/** Deterministic short hash so re-running a notebook gives the same element ids. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** A figure as HTML: a div and a script that draws it once Plotly is present (it may load a moment later). */
export function figureHtml(fig: FigureSpec, height = 420): string {
  const spec = figureSpecScript(fig);
  const id = `bonelab-fig-${hash(spec)}-${++figureCount}`;
  return [
    `<div id="${id}" style="width: 100%; height: ${height}px;"></div>`,
    '<script type="text/javascript">(function () {',
    `  var spec = ${spec};`,
    `  function draw() { window.Plotly.newPlot(${JSON.stringify(id)}, spec.data, spec.layout, spec.config); }`,
    '  if (window.Plotly) { draw(); return; }',
    '  var tries = 0, timer = setInterval(function () { if (window.Plotly) { clearInterval(timer); draw(); } else if (++tries > 200) clearInterval(timer); }, 50);',
    '})();</script>',
  ].join('\n');
}

/** Show a plotly figure offline; the first call in a process also embeds the plotly bundle (~5 MB). */
export function showFigure(fig: FigureSpec, height = 420): void {
  const title = (fig.layout?.title as { text?: string } | string | undefined) ?? '';
  const name = typeof title === 'string' ? title : (title.text ?? '');
  const traces = fig.data.map((d) => String(d.name ?? d.type ?? 'trace')).join(', ');
  const fallback = `[figure${name ? `: ${name}` : ''}; traces: ${traces}]`;
  const bundle = plotlyEmitted ? '' : plotlyBundleScript();
  try {
    tslab.display.html(bundle + figureHtml(fig, height));
    plotlyEmitted = true;
  } catch (e) {
    if ((e as Error).message !== 'Not ready') throw e;
    console.log(fallback);
  }
}
