/**
 * Run a notebook's code cells in order inside this process with tslab's own converter and executor (what the tslab
 * Jupyter kernel does, minus ZeroMQ), capturing stdout/stderr and display data into the cells' outputs.
 * It patches process.stdout/stderr and tslab's display hook, so it belongs in a process of its own (worker.ts).
 * tslab's internal modules are not a public API: package.json pins tslab exactly.
 */
import { createConverter, type Converter } from 'tslab/dist/converter';
import { createExecutor, type ConverterSet } from 'tslab/dist/executor';
import { appendStream, OutputSink } from './capture';
import { sourceText, toLines, type Notebook } from './ipynb';

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

function headOf(src: string): string {
  const line = src.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 80);
}

/**
 * Execute every code cell of `nb` (a deep copy is returned with outputs and execution counts filled in).
 * The kernel root is process.cwd(): cells import `./lib/...` relative to it, exactly as under the kit's kernelspec.
 * Stops at the first failing cell, as `jupyter nbconvert --execute` does.
 */
export async function executeNotebook(nb: Notebook, hooks: ExecuteHooks = {}): Promise<ExecuteResult> {
  const out = JSON.parse(JSON.stringify(nb)) as Notebook;
  disableFileWatching();
  const sink = new OutputSink(hooks.onText);
  const executor = createExecutor(process.cwd(), lazyConverters(), {
    log: (...args: unknown[]) => console.log(...args),
    error: (...args: unknown[]) => sink.errors.record(args),
  });
  const reports: CellReport[] = [];
  const codeTotal = out.cells.filter((c) => c.cell_type === 'code').length;
  let codeIndex = 0;
  let count = 0;
  sink.install();
  try {
    for (let i = 0; i < out.cells.length; i++) {
      const cell = out.cells[i];
      if (cell.cell_type !== 'code') continue;
      cell.outputs = [];
      cell.execution_count = null;
      const src = sourceText(cell.source);
      const head = headOf(src);
      hooks.onCellStart?.(i + 1, ++codeIndex, codeTotal, head);
      if (src.trim() === '') continue;
      sink.current = cell;
      sink.errors.reset();
      cell.execution_count = ++count;
      const t0 = performance.now();
      let ok: boolean;
      try {
        ok = await executor.execute(src);
      } catch (e) {
        sink.errors.thrown(e); // tslab lets compiler-internal errors escape execute(); they belong to this cell
        ok = false;
      }
      // Let output written by already-resolved callbacks land in this cell before moving on.
      await new Promise((r) => setImmediate(r));
      if (sink.errors.async !== null) ok = false;
      let error: string | null = null;
      if (!ok) {
        const e = sink.errors.output();
        cell.outputs.push(e.output);
        error = e.text;
      } else if (sink.errors.text !== '') {
        appendStream(cell.outputs, 'stderr', sink.errors.text);
      }
      const report: CellReport = { cell: i + 1, head, ok, ms: performance.now() - t0, error };
      reports.push(report);
      hooks.onCellEnd?.(report);
      if (!ok) break;
    }
  } finally {
    sink.uninstall();
    executor.close();
  }
  // Jupyter stores stream text as a list of lines.
  for (const c of out.cells) {
    if (c.cell_type !== 'code') continue;
    for (const o of c.outputs) if (o.output_type === 'stream') o.text = toLines(sourceText(o.text));
  }
  return { notebook: out, cells: reports, failed: reports.find((r) => !r.ok) ?? null };
}
