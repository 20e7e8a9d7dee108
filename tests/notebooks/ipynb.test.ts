/**
 * Notebook documents: cleaning strips everything an execution or a Jupyter save adds, parsing names the bad cell,
 * and the committed notebooks are clean, canonical, valid nbformat 4.5 with the tslab kernelspec, and thin.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  cleanNotebook,
  cleanlinessProblems,
  newNotebook,
  parseNotebook,
  serializeNotebook,
  sourceText,
  toLines,
  type CodeCell,
  type Notebook,
} from '../../lib/notebook/ipynb';
import { NOTEBOOK_DIR, NUMBERED_NOTEBOOK, findNotebooks } from '../../lib/notebook/runner';

/** The numbered notebooks the kit ships (each reproduces one paper table/claim). */
const EXPECTED = ['00-quickstart', '01-main-table', '02-block-size', '03-convergence', '04-bone-vs-bat', '05-learning-rate', '06-real-checkpoint'];

function dirty(): Notebook {
  const nb = newNotebook(['%md\n# t', 'console.log(1)', 'console.log(2)']);
  const [, a, b] = nb.cells as [unknown, CodeCell, CodeCell];
  a.execution_count = 1;
  a.outputs = [{ output_type: 'stream', name: 'stdout', text: ['1\n'] }];
  a.metadata = { scrolled: true };
  b.execution_count = 2;
  b.outputs = [{ output_type: 'display_data', data: { 'text/html': ['<b>2</b>'] }, metadata: {} }];
  b.source = 'console.log(2)\nconsole.log(3)\n';
  nb.metadata.widgets = { state: {} };
  return nb;
}

test('toLines keeps newlines on all but the last line and round-trips', () => {
  for (const s of ['', 'a', 'a\n', 'a\nb', 'a\n\nb\n']) assert.is(toLines(s).join(''), s, JSON.stringify(s));
  assert.equal(toLines('a\nb'), ['a\n', 'b']);
});

test('cleanNotebook strips outputs, counts and metadata; is idempotent; keeps sources and ids', () => {
  const nb = dirty();
  assert.is(cleanlinessProblems(nb).length, 6, cleanlinessProblems(nb).join('; '));
  const c = cleanNotebook(nb);
  assert.equal(cleanlinessProblems(c), []);
  assert.equal(c.cells.map((x) => x.id), nb.cells.map((x) => x.id));
  assert.equal(c.cells.map((x) => sourceText(x.source)), nb.cells.map((x) => sourceText(x.source)));
  assert.ok(Array.isArray(c.cells[2].source), 'string sources become Jupyter line lists');
  assert.is(serializeNotebook(cleanNotebook(c)), serializeNotebook(c));
  assert.equal(Object.keys(c.metadata).sort(), ['kernelspec', 'language_info']);
});

test('parseNotebook names the file, the cell and the field', () => {
  assert.throws(() => parseNotebook('{', 'x.ipynb'), /x\.ipynb: not valid JSON/);
  assert.throws(() => parseNotebook('{"nbformat": 3, "cells": []}', 'x.ipynb'), /nbformat=3/);
  const nb = newNotebook(['a']) as unknown as { cells: Record<string, unknown>[] };
  nb.cells[0].outputs = undefined;
  assert.throws(() => parseNotebook(JSON.stringify(nb), 'y.ipynb'), /y\.ipynb: cell 1: code cell without an outputs list/);
  nb.cells[0].id = 'has space';
  assert.throws(() => parseNotebook(JSON.stringify(nb), 'y.ipynb'), /cell 1: id="has space"/);
});

test('committed notebooks: the numbered set exists', () => {
  const names = fs.readdirSync(NOTEBOOK_DIR).filter((f) => NUMBERED_NOTEBOOK.test(f)).map((f) => f.replace(/\.ipynb$/, ''));
  assert.equal(names, EXPECTED);
});

for (const file of findNotebooks([])) {
  const name = path.basename(file);
  test(`${name}: clean, canonical, tslab kernelspec, thin`, () => {
    const text = fs.readFileSync(file, 'utf8');
    const nb = parseNotebook(text, name);
    assert.equal(cleanlinessProblems(nb), [], `${name} is not clean: run npm run -s bonelab -- notebooks --clean`);
    assert.is(text, serializeNotebook(cleanNotebook(nb)), `${name} is not in canonical form: run npm run -s bonelab -- notebooks --clean`);
    assert.is(nb.nbformat_minor, 5);
    assert.equal(nb.metadata.kernelspec, { display_name: 'TypeScript', language: 'typescript', name: 'tslab' });
    assert.is(nb.cells[0].cell_type, 'markdown', 'first cell says what it reproduces');
    assert.match(sourceText(nb.cells[0].source), /smoke/i, 'first cell states the smoke and full run times');
    assert.is(nb.cells[nb.cells.length - 1].cell_type === 'markdown' || /show|verdict/i.test(sourceText(nb.cells[nb.cells.length - 1].source)), true);
    assert.ok(nb.cells.length <= 16, `${name} has ${nb.cells.length} cells (keep notebooks thin: ~15)`);
    const codeText = nb.cells.filter((c) => c.cell_type === 'code').map((c) => sourceText(c.source)).join('\n');
    assert.not.match(codeText, /from ['"]\.\.\//, 'imports are ./lib/... (the kernel runs at the project root)');
    assert.not.match(codeText, /@tensorflow\/tfjs|\.minimize\(|variableGrads/, 'no tensor ops or step loops in notebooks');
    assert.not.match(text, /\/work\/|\/root\/|\/home\//, 'no machine paths');
  });
}

test.run();
