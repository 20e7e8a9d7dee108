/**
 * The .ipynb (nbformat 4.5) document: types, parsing with clear errors, building from cell sources, and cleaning
 * (no outputs, no execution counts, no per-cell metadata) so committed notebooks diff cleanly.
 */
import * as fs from 'node:fs';

export type MultilineString = string | string[];

export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: MultilineString;
}
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: Record<string, MultilineString>;
  metadata: Record<string, unknown>;
}
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  execution_count: number | null;
  data: Record<string, MultilineString>;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface CodeCell {
  id: string;
  cell_type: 'code';
  metadata: Record<string, unknown>;
  source: MultilineString;
  execution_count: number | null;
  outputs: Output[];
}
export interface MarkdownCell {
  id: string;
  cell_type: 'markdown' | 'raw';
  metadata: Record<string, unknown>;
  source: MultilineString;
}
export type Cell = CodeCell | MarkdownCell;

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** The kernelspec every kit notebook names: tslab's TypeScript kernel (installed project-locally, see kernelspec.ts). */
export const TSLAB_KERNELSPEC = { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } as const;
export const TSLAB_LANGUAGE_INFO = {
  name: 'typescript',
  file_extension: '.ts',
  mimetype: 'text/typescript',
  codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
} as const;

/** A cell's source as one string (nbformat allows a string or a list of lines). */
export function sourceText(src: MultilineString): string {
  return Array.isArray(src) ? src.join('') : src;
}

/** Split text into Jupyter's list-of-lines form (every line but the last keeps its '\n'). */
export function toLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const lines = parts.map((p, i) => (i < parts.length - 1 ? `${p}\n` : p));
  return lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines;
}

/** Cell ids must match nbformat 4.5's pattern; notebooks built here get stable, readable ones. */
const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

/**
 * Build a notebook from cell sources. A source starting with `%md\n` is a markdown cell, anything else is code.
 * Ids are `c00`, `c01`, ... so the file is deterministic.
 */
export function newNotebook(cells: string[]): Notebook {
  return {
    cells: cells.map((src, i): Cell => {
      const id = `c${String(i).padStart(2, '0')}`;
      if (src.startsWith('%md\n')) return { id, cell_type: 'markdown', metadata: {}, source: toLines(src.slice(4).trim()) };
      return { id, cell_type: 'code', metadata: {}, source: toLines(src.trim()), execution_count: null, outputs: [] };
    }),
    metadata: { kernelspec: { ...TSLAB_KERNELSPEC }, language_info: { ...TSLAB_LANGUAGE_INFO } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Parse and structurally validate a notebook; errors name the file, the cell and the field. */
export function parseNotebook(text: string, where: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const nb = raw as Partial<Notebook>;
  if (typeof nb !== 'object' || nb === null || Array.isArray(nb)) throw new Error(`${where}: not a notebook object`);
  if (nb.nbformat !== 4) throw new Error(`${where}: nbformat=${String(nb.nbformat)}, expected 4`);
  if (typeof nb.nbformat_minor !== 'number') throw new Error(`${where}: nbformat_minor missing`);
  if (typeof nb.metadata !== 'object' || nb.metadata === null) throw new Error(`${where}: metadata missing`);
  if (!Array.isArray(nb.cells)) throw new Error(`${where}: cells is not a list`);
  nb.cells.forEach((c, i) => {
    const at = `${where}: cell ${i + 1}`;
    if (c.cell_type !== 'code' && c.cell_type !== 'markdown' && c.cell_type !== 'raw') {
      throw new Error(`${at}: cell_type=${JSON.stringify((c as { cell_type: unknown }).cell_type)}`);
    }
    if (typeof c.source !== 'string' && !Array.isArray(c.source)) throw new Error(`${at}: source must be a string or list of lines`);
    if (typeof c.metadata !== 'object' || c.metadata === null) throw new Error(`${at}: metadata missing`);
    if (nb.nbformat_minor! >= 5 && (typeof c.id !== 'string' || !CELL_ID.test(c.id))) {
      throw new Error(`${at}: id=${JSON.stringify(c.id)} is not a valid nbformat 4.5 cell id`);
    }
    if (c.cell_type === 'code') {
      if (!Array.isArray(c.outputs)) throw new Error(`${at}: code cell without an outputs list`);
      if (c.execution_count !== null && typeof c.execution_count !== 'number') throw new Error(`${at}: execution_count must be null or a number`);
    }
  });
  return nb as Notebook;
}

export function readNotebook(file: string): Notebook {
  if (!fs.existsSync(file)) throw new Error(`notebook not found: ${file}`);
  return parseNotebook(fs.readFileSync(file, 'utf8'), file);
}

/** Jupyter's own on-disk layout: 1-space indent, trailing newline. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(nb, null, 1) + '\n';
}

/**
 * The committed form: no outputs, no execution counts, empty cell metadata, and notebook metadata reduced to the
 * kernelspec and language_info (Jupyter adds widget state, toc settings and the like on save).
 */
export function cleanNotebook(nb: Notebook): Notebook {
  const meta: Record<string, unknown> = {};
  if (nb.metadata.kernelspec !== undefined) meta.kernelspec = nb.metadata.kernelspec;
  if (nb.metadata.language_info !== undefined) meta.language_info = nb.metadata.language_info;
  return {
    cells: nb.cells.map((c): Cell => {
      const source = toLines(sourceText(c.source));
      if (c.cell_type === 'code') return { id: c.id, cell_type: 'code', metadata: {}, source, execution_count: null, outputs: [] };
      return { id: c.id, cell_type: c.cell_type, metadata: {}, source };
    }),
    metadata: meta,
    nbformat: 4,
    nbformat_minor: nb.nbformat_minor,
  };
}

/** Reasons a notebook is not in committed form (empty when it is clean). */
export function cleanlinessProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((c, i) => {
    if (c.cell_type === 'code' && c.outputs.length > 0) problems.push(`cell ${i + 1} has ${c.outputs.length} output(s)`);
    if (c.cell_type === 'code' && c.execution_count !== null) problems.push(`cell ${i + 1} has execution_count=${c.execution_count}`);
    if (Object.keys(c.metadata).length > 0) problems.push(`cell ${i + 1} has metadata ${Object.keys(c.metadata).join(', ')}`);
  });
  const extra = Object.keys(nb.metadata).filter((k) => k !== 'kernelspec' && k !== 'language_info');
  if (extra.length > 0) problems.push(`notebook metadata has ${extra.join(', ')}`);
  return problems;
}
