/**
 * Display helpers: tables render their rows, figures are self-drawing HTML whose JSON cannot close the script tag,
 * and the UMD wrapper makes a bundle define its browser global even where require.js (define/module) exists.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vm from 'node:vm';
import * as tslab from 'tslab';
import { figureHtml, showFigure, tableHtml } from '../../lib/notebook/display';
import { plotlyBundleScript, wrapUmdScript } from '../../lib/report/plotly';

test('tableHtml renders every row and rounds to the requested digits', () => {
  const html = tableHtml([{ method: 'bone', acc: 0.123456789 }, { method: 'lora<x>', acc: 0.5 }], { caption: 'T1 & more', digits: 3 });
  assert.match(html, /<th[^>]*>method<\/th>/);
  assert.match(html, />0\.123</);
  assert.not.match(html, /0\.1235/);
  assert.match(html, /lora&lt;x&gt;/, 'cell text is escaped');
  assert.match(html, /T1 &amp; more/, 'caption is escaped');
  assert.match(tableHtml([{ a: 1 }, { a: 2 }, { a: 3 }], { limit: 2 }), /\(2 of 3 rows\)/);
});

test('figureHtml embeds the spec safely and draws into its own element', () => {
  const fig = { data: [{ type: 'scatter', x: [1, 2], y: [3, 4], name: '</script><b>' }], layout: { title: { text: 't' } } };
  const html = figureHtml(fig);
  assert.is(html.match(/<\/script>/g)?.length, 1, 'only the closing tag of its own script');
  const id = /<div id="([^"]+)"/.exec(html)?.[1];
  assert.ok(id && html.includes(`newPlot(${JSON.stringify(id)}`), 'newPlot targets the div it created');
  const spec = JSON.parse(/var spec = (.*);\n/.exec(html)![1].replace(/<\\\//g, '</')) as { data: unknown[] };
  assert.equal(spec.data, fig.data, 'spec round-trips');
  assert.is.not(figureHtml(fig), html, 'a second figure gets a new element id');
});

/** A UMD header of the kind plotly ships: CommonJS or AMD when present, else a browser global. */
const UMD = `(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else if (typeof define === 'function' && define.amd) define([], factory);
  else root.Plotly = factory();
})(typeof self !== 'undefined' ? self : this, function () { return { newPlot: function () {} }; });`;

function runScript(html: string, globals: Record<string, unknown>): Record<string, unknown> {
  const js = /^<script type="text\/javascript">([\s\S]*)<\/script>$/.exec(html)?.[1];
  assert.ok(js, 'one inline script');
  const ctx: Record<string, unknown> = { ...globals };
  ctx.window = ctx;
  ctx.self = ctx;
  vm.runInNewContext(js!, ctx);
  return ctx;
}

test('wrapUmdScript sets window.Plotly even with require.js and CommonJS globals around', () => {
  const amdCalls: unknown[] = [];
  const define = Object.assign((...a: unknown[]) => void amdCalls.push(a), { amd: {} });
  const module = { exports: {} as Record<string, unknown> };
  const bare = runScript(`<script type="text/javascript">${UMD}</script>`, { define, module });
  assert.is(bare.Plotly, undefined, 'control: unwrapped, the UMD header takes the CommonJS branch');
  const wrapped = runScript(wrapUmdScript(UMD), { define, module });
  assert.is(typeof (wrapped.Plotly as { newPlot?: unknown })?.newPlot, 'function');
  assert.is(amdCalls.length, 0);
  assert.equal(wrapped.module, module, 'the page globals are untouched');
  assert.is(wrapUmdScript('var s = "</script>";').match(/<\/script>/g)?.length, 1, 'a bundle cannot close the tag early');
});

test('wrapUmdScript with a global name skips the bundle on a page that already has it', () => {
  const existing = { newPlot: 'old' };
  const again = runScript(wrapUmdScript(UMD, 'Plotly'), { Plotly: existing });
  assert.is(again.Plotly, existing, 'not re-evaluated');
  const fresh = runScript(wrapUmdScript(UMD, 'Plotly'), {});
  assert.is(typeof (fresh.Plotly as { newPlot?: unknown })?.newPlot, 'function');
});

test('showFigure embeds the shared plotly bundle (shadowed UMD) with its first figure only', () => {
  const shown: string[] = [];
  const original = tslab.display.html;
  (tslab.display as { html: (s: string) => void }).html = (s: string) => void shown.push(s);
  try {
    const fig = { data: [{ type: 'bar', x: [1], y: [2] }] };
    showFigure(fig);
    showFigure(fig);
  } finally {
    (tslab.display as { html: (s: string) => void }).html = original;
  }
  const bundle = plotlyBundleScript();
  assert.ok(bundle.startsWith('<script type="text/javascript">(function () { if (window["Plotly"]) return; var define, module, exports, require;\n'), 'shadowing wrapper');
  assert.ok(bundle.includes('plotly.js v'), 'the real bundle, inline');
  assert.is(shown.length, 2);
  assert.ok(shown[0].startsWith(bundle), 'first figure carries the bundle');
  assert.not.ok(shown[1].includes('plotly.js v'), 'second figure does not');
});

test.run();
