/**
 * Offline plotly: figures are plain JSON ({data, layout}); HTML pages embed plotly.js-dist-min's bundle inline so they
 * open without a network. A report page embeds the bundle once for all its figures.
 */
import * as fs from 'node:fs';

/** A plotly figure as plain JSON. */
export interface FigureSpec {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** A named figure of a report: written to figures/<id>.html. */
export interface NamedFigure {
  id: string;
  title: string;
  /** One sentence on what to look for. */
  caption: string;
  figure: FigureSpec;
}

/**
 * A UMD bundle as one inline script that always defines its browser global. A UMD header registers with require.js
 * or CommonJS when `define`/`module`/`exports` exist (classic Jupyter has require.js), leaving the global unset, so
 * they (and `require`) are shadowed inside a function scope run with `this` = window. `</script` inside the bundle is
 * escaped so it cannot close the tag early. With `global`, a page that already has window[global] skips the script.
 */
export function wrapUmdScript(js: string, global?: string): string {
  const safe = js.replace(/<\/script/gi, '<\\/script');
  const skip = global ? `if (window[${JSON.stringify(global)}]) return; ` : '';
  return `<script type="text/javascript">(function () { ${skip}var define, module, exports, require;\n${safe}\n}).call(window);</script>`;
}

let bundle: string | null = null;

/**
 * The plotly.js bundle (plotly.js-dist-min, ~4.8 MB) inline, so pages and notebook outputs work offline; it sets
 * window.Plotly even under require.js. Read once per process. Used by report pages and notebook figures alike.
 */
export function plotlyBundleScript(): string {
  if (bundle === null) bundle = wrapUmdScript(fs.readFileSync(require.resolve('plotly.js-dist-min'), 'utf8'), 'Plotly');
  return bundle;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The figure as a JSON literal safe inside a <script> element (no `</`), for Plotly.newPlot(id, s.data, s.layout, s.config). */
export function figureSpecScript(fig: FigureSpec, config: Record<string, unknown> = {}): string {
  return JSON.stringify({ data: fig.data, layout: fig.layout ?? {}, config: { responsive: true, ...config, ...(fig.config ?? {}) } }).replace(/<\//g, '<\\/');
}

/** A div plus the script that draws `fig` into it (Plotly must be loaded before). */
export function figureDiv(fig: FigureSpec, id: string, height = 440): string {
  const spec = figureSpecScript(fig, { displaylogo: false });
  return [
    `<div id="${escapeHtml(id)}" class="figure" style="width: 100%; height: ${height}px;"></div>`,
    `<script>(function () { var s = ${spec}; Plotly.newPlot(${JSON.stringify(id)}, s.data, s.layout, s.config); })();</script>`,
  ].join('\n');
}

const STYLE = `body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; font-size: 90%; margin: 0.5em 0 1.5em; }
th, td { padding: 3px 9px; border-bottom: 1px solid #ddd; text-align: right; vertical-align: top; }
th { border-bottom: 2px solid #888; } td.l, th.l { text-align: left; } td:not(.l) { white-space: nowrap; }
.caption { color: #555; font-size: 90%; } .holds { color: #1a7f37; font-weight: 600; } .fails { color: #c62828; font-weight: 600; }
.inconclusive { color: #8a6d00; } code { background: #f4f4f4; padding: 0 3px; }`;

/** A complete HTML page; `plotly` embeds the bundle in the head. */
export function htmlPage(title: string, body: string, plotly: boolean): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    plotly ? plotlyBundleScript() : '',
    '</head><body>',
    body,
    '</body></html>',
    '',
  ].join('\n');
}

/** A self-contained page holding one figure. */
export function figurePage(f: NamedFigure): string {
  return htmlPage(f.title, `<h2>${escapeHtml(f.title)}</h2>\n<p class="caption">${escapeHtml(f.caption)}</p>\n${figureDiv(f.figure, f.id, 560)}`, true);
}
