/**
 * Where a running cell's output goes in the headless executor: process.stdout/stderr writes, tslab display calls and
 * asynchronous errors are routed into the current cell's nbformat outputs; the executor's own error reports (thrown
 * values, type errors) are collected apart, to become the cell's error output.
 */
import * as util from 'node:util';
import { toLines, type CodeCell, type Output } from './ipynb';

/** The display payload tslab's public `display` API hands to its hook. */
export interface DisplayPayload {
  data: Record<string, string | Uint8Array>;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
}

/** tslab's display hook lives on its jupyter module's exports; assigning through an ES namespace would not reach it. */
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: ((d: DisplayPayload, update: boolean) => void) | null };

/** Stack frames of the executor machinery say nothing about the notebook; keep the cell's and the kit's frames. */
const MACHINERY = /node:vm|node:internal|tslab[\\/]dist[\\/]executor|lib[\\/]notebook[\\/](execute|capture|worker)\.ts/;

export function trimStack(text: string): string {
  return text.split('\n').filter((l) => !(l.trimStart().startsWith('at ') && MACHINERY.test(l))).join('\n');
}

/** Append text to the outputs, merging into the previous chunk of the same stream as Jupyter front-ends do. */
export function appendStream(outputs: Output[], name: 'stdout' | 'stderr', text: string): void {
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

/** What the executor reported as the reason a cell failed. */
export class CellErrors {
  name = 'Error';
  value: string | null = null;
  text = '';
  /** First unhandled rejection / uncaught exception raised while the cell was current. */
  async: string | null = null;

  reset(): void {
    this.name = 'Error';
    this.value = null;
    this.text = '';
    this.async = null;
  }

  /** tslab reports a thrown value as console.error(err) and type errors as 'file line:col - message' lines. */
  record(args: unknown[]): void {
    if (args[0] instanceof Error) {
      this.name = args[0].name;
      this.value ??= args[0].message;
    } else if (typeof args[0] === 'string' && args[0].startsWith('%s%d:%d')) {
      this.name = 'TypeScriptError';
    }
    this.text += trimStack(util.format(...(args as [unknown, ...unknown[]]))) + '\n';
  }

  /** An exception that escaped tslab's execute() (compiler internals). */
  thrown(e: unknown): void {
    this.name = (e as Error)?.name ?? 'Error';
    this.value = (e as Error)?.message ?? String(e);
    this.text += trimStack((e as Error)?.stack ?? String(e)) + '\n';
  }

  /** The nbformat error output for a failed cell, and its text for messages. */
  output(): { output: Output; text: string } {
    const text = this.text.trim() || this.async || 'cell failed without an error message';
    const lines = text.split('\n');
    return { output: { output_type: 'error', ename: this.text.trim() ? this.name : 'AsyncError', evalue: this.value ?? lines[0], traceback: lines }, text };
  }
}

/** Routes process output and displays into `current` while installed. */
export class OutputSink {
  current: CodeCell | null = null;
  readonly errors = new CellErrors();
  private readonly displays = new Map<string, { data: Record<string, string | string[]> }>();
  private restore: (() => void) | null = null;

  constructor(private readonly onText?: (stream: 'stdout' | 'stderr', text: string) => void) {}

  private write(name: 'stdout' | 'stderr') {
    return (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (this.current) appendStream(this.current.outputs, name, text);
      this.onText?.(name, text);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) cb();
      return true;
    };
  }

  /** tslab's hook: a new display, or an update of an earlier one with the same display_id (newDisplay()). */
  private display(payload: DisplayPayload, update: boolean): void {
    const id = payload.transient?.display_id;
    const data = toMime(payload.data);
    const prev = id ? this.displays.get(id) : undefined;
    if (update && prev) {
      prev.data = data;
      return;
    }
    if (!this.current) return;
    const o: Output = { output_type: 'display_data', data, metadata: {} };
    this.current.outputs.push(o);
    if (id) this.displays.set(id, o);
  }

  private asyncError(what: string) {
    return (err: unknown): void => {
      const text = `${what}: ${err instanceof Error ? (err.stack ?? err.message) : util.inspect(err)}`;
      this.errors.async ??= text;
      if (this.current) appendStream(this.current.outputs, 'stderr', text + '\n');
    };
  }

  install(): void {
    const out = process.stdout.write;
    const err = process.stderr.write;
    const onRejection = this.asyncError('unhandled promise rejection');
    const onException = this.asyncError('uncaught exception');
    process.stdout.write = this.write('stdout') as typeof process.stdout.write;
    process.stderr.write = this.write('stderr') as typeof process.stderr.write;
    jupyter.lastWriteDisplayData = (d, u) => this.display(d, u);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    this.restore = () => {
      process.stdout.write = out;
      process.stderr.write = err;
      jupyter.lastWriteDisplayData = null;
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    };
  }

  uninstall(): void {
    this.current = null;
    this.restore?.();
    this.restore = null;
  }
}
