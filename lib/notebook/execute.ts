/**
 * Run a notebook's code cells in order inside this process with tslab's own converter and executor (what the tslab
 * Jupyter kernel does, minus ZeroMQ), capturing stdout/stderr and display data into the cells' outputs.
 * It patches process.stdout/stderr and tslab's display hook, so it belongs in a process of its own (worker.ts).
 * tslab's internal modules are not a public API: package.json pins tslab exactly.
 */
import * as util from 'node:util';
import { createConverter, type Converter } from 'tslab/dist/converter';
import { createExecutor, type ConverterSet } from 'tslab/dist/executor';
import { sourceText, toLines, type CodeCell, type Notebook, type Output } from './ipynb';

export interface CellReport {
  /** 1-based index among all cells (what Jupyter shows when you count cells). */
  cell: number;
  /** First non-empty source line, to name the cell in messages. */
  head: string;
  ok: boolean;
  ms: number;
  /** Error text of a failing cell (compile diagnostics or the thrown error). */
  error: string | null;
}

export interface ExecuteHooks {
  onCellStart?(cell: number, codeIndex: number, codeTotal: number, head: string): void;
  onCellEnd?(report: CellReport): void;
  /** Called with every captured text chunk as it is produced (to echo progress live). */
  onText?(stream: 'stdout' | 'stderr', text: string): void;
}

export interface ExecuteResult {
  notebook: Notebook;
  cells: CellReport[];
  /** The first failing cell, if any; later cells were not run. */
  failed: CellReport | null;
}

/** The display payload tslab's public `display` API hands to its hook. */
interface DisplayPayload {
  data: Record<string, string | Uint8Array>;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
}

/** tslab's display hook lives on its jupyter module's exports; assigning through an ES namespace would not reach it. */
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: ((d: DisplayPayload, update: boolean) => void) | null };

/** Stack frames of the executor machinery say nothing about the notebook; keep the cell's and the kit's frames. */
const MACHINERY = /node:vm|node:internal|tslab[\\/]dist[\\/]executor|lib[\\/]notebook[\\/](execute|worker)\.ts/;
function trimStack(text: string): string {
  return text.split('\n').filter((l) => !(l.trimStart().startsWith('at ') && MACHINERY.test(l))).join('\n');
}

function headOf(src: string): string {
  const line = src.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 80);
}

/** Append text to the cell, merging into the previous chunk of the same stream like Jupyter front-ends do. */
function appendStream(outputs: Output[], name: 'stdout' | 'stderr', text: string): void {
  const last = outputs[outputs.length - 1];
  if (last && last.output_type === 'stream' && last.name === name) {
    last.text = (Array.isArray(last.text) ? last.text.join('') : last.text) + text;
  } else {
    outputs.push({ output_type: 'stream', name, text });
  }
}

function toMime(data: Record<string, string | Uint8Array>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(data)) {
    const s = typeof v === 'string' ? v : Buffer.from(v).toString('base64');
    out[k] = k.startsWith('text/') || k === 'image/svg+xml' ? toLines(s) : s;
  }
  return out;
}

/**
 * A headless run compiles the kit's files once: no file watching. tslab's converter fakes TypeScript's rebuild timer
 * and throws "Unexpected pending rebuildTimer" when a watched .ts file changes on disk between two cells (an edit
 * while a long notebook runs), so the watchers it would create through ts.sys are replaced by inert ones.
 */
function disableFileWatching(): void {
  const tsys = (require('@tslab/typescript-for-tslab') as { sys: Record<string, unknown> }).sys;
  const inert = () => ({ close() {} });
  tsys.watchFile = inert;
  tsys.watchDirectory = inert;
}

function lazyConverters(): ConverterSet {
  let node: Converter | null = null;
  let browser: Converter | null = null;
  return {
    get node() {
      return (node ??= createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      return (browser ??= createConverter({ isJS: false, isBrowser: true }));
    },
    close() {
      node?.close();
      browser?.close();
    },
  };
}

/**
 * Execute every code cell of `nb` (a deep copy is returned with outputs and execution counts filled in).
 * The kernel root is process.cwd(): cells import `./lib/...` relative to it, exactly as under the kit's kernelspec.
 * Stops at the first failing cell, as `jupyter nbconvert --execute` does.
 */
export async function executeNotebook(nb: Notebook, hooks: ExecuteHooks = {}): Promise<ExecuteResult> {
  const out = JSON.parse(JSON.stringify(nb)) as Notebook;
  disableFileWatching();
  const convs = lazyConverters();
  let current: CodeCell | null = null;
  let errText = '';
  let errName = 'Error';
  let errValue: string | null = null;
  let asyncError: string | null = null;
  const capture = (name: 'stdout' | 'stderr') => (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (current) appendStream(current.outputs, name, text);
    hooks.onText?.(name, text);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (cb) cb();
    return true;
  };
  const origOut = process.stdout.write;
  const origErr = process.stderr.write;
  // Errors and diagnostics the executor reports; kept apart from the cell's own stderr to build the error output.
  const executor = createExecutor(process.cwd(), convs, {
    log: (...args: unknown[]) => console.log(...args),
    error: (...args: unknown[]) => {
      // tslab reports a thrown value as console.error(err) and type errors as 'file line:col - message' lines.
      if (args[0] instanceof Error) {
        errName = args[0].name;
        errValue ??= args[0].message;
      }
      else if (typeof args[0] === 'string' && args[0].startsWith('%s%d:%d')) errName = 'TypeScriptError';
      errText += trimStack(util.format(...(args as [unknown, ...unknown[]]))) + '\n';
    },
  });
  const displays = new Map<string, { data: Record<string, string | string[]> }>();
  const writeDisplay = (payload: DisplayPayload, update: boolean): void => {
    const id = payload.transient?.display_id;
    const data = toMime(payload.data);
    const prev = id ? displays.get(id) : undefined;
    if (update && prev) {
      prev.data = data;
      return;
    }
    if (!current) return;
    const o: Output = { output_type: 'display_data', data, metadata: {} };
    current.outputs.push(o);
    if (id) displays.set(id, o);
  };
  const onAsyncError = (what: string) => (err: unknown): void => {
    const text = `${what}: ${err instanceof Error ? (err.stack ?? err.message) : util.inspect(err)}`;
    asyncError ??= text;
    if (current) appendStream(current.outputs, 'stderr', text + '\n');
  };
  const onRejection = onAsyncError('unhandled promise rejection');
  const onException = onAsyncError('uncaught exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  const reports: CellReport[] = [];
  let failed: CellReport | null = null;
  const codeCells = out.cells.filter((c) => c.cell_type === 'code').length;
  let codeIndex = 0;
  let count = 0;
  try {
    jupyter.lastWriteDisplayData = writeDisplay;
    process.stdout.write = capture('stdout') as typeof process.stdout.write;
    process.stderr.write = capture('stderr') as typeof process.stderr.write;
    for (let i = 0; i < out.cells.length; i++) {
      const cell = out.cells[i];
      if (cell.cell_type !== 'code') continue;
      cell.outputs = [];
      cell.execution_count = null;
      const src = sourceText(cell.source);
      const head = headOf(src);
      hooks.onCellStart?.(i + 1, ++codeIndex, codeCells, head);
      if (src.trim() === '') continue;
      current = cell;
      cell.execution_count = ++count;
      errText = '';
      errName = 'Error';
      errValue = null;
      asyncError = null;
      const t0 = performance.now();
      let ok: boolean;
      try {
        ok = await executor.execute(src);
      } catch (e) {
        // tslab lets compiler-internal errors escape execute(); they still belong to this cell.
        errName = (e as Error)?.name ?? 'Error';
        errValue = (e as Error)?.message ?? String(e);
        errText += trimStack((e as Error)?.stack ?? String(e)) + '\n';
        ok = false;
      }
      // Let output written by already-resolved callbacks land in this cell before moving on.
      await new Promise((r) => setImmediate(r));
      if (asyncError !== null) ok = false;
      const ms = performance.now() - t0;
      const error = ok ? null : (errText.trim() || asyncError || 'cell failed without an error message');
      if (!ok) {
        const lines = (errText.trim() || asyncError || '').split('\n');
        cell.outputs.push({ output_type: 'error', ename: errText.trim() ? errName : 'AsyncError', evalue: errValue ?? lines[0] ?? '', traceback: lines });
      } else if (errText !== '') {
        appendStream(cell.outputs, 'stderr', errText);
      }
      const report: CellReport = { cell: i + 1, head, ok, ms, error };
      reports.push(report);
      hooks.onCellEnd?.(report);
      if (!ok) {
        failed = report;
        break;
      }
    }
  } finally {
    current = null;
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    jupyter.lastWriteDisplayData = null;
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    executor.close();
  }
  // Jupyter stores stream text as a list of lines.
  for (const c of out.cells) {
    if (c.cell_type !== 'code') continue;
    for (const o of c.outputs) if (o.output_type === 'stream') o.text = toLines(sourceText(o.text));
  }
  return { notebook: out, cells: reports, failed };
}
