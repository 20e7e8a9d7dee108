/** Shared test helpers: backend set-up, closeness checks, leak checks, error checks, temporary folders, the tiny LLaMA checkpoint. */
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../lib/backend';

export async function setupBackend(): Promise<string> {
  return initBackend();
}

/** max |a - b| over two equal-length numeric arrays (flattening nested lists). */
export function maxAbsDiff(a: ArrayLike<number> | number[][] | number[][][], b: ArrayLike<number> | number[][] | number[][][]): number {
  const fa = flat(a);
  const fb = flat(b);
  assert.is(fa.length, fb.length, `length mismatch ${fa.length} vs ${fb.length}`);
  let m = 0;
  for (let i = 0; i < fa.length; i++) m = Math.max(m, Math.abs(fa[i] - fb[i]));
  return m;
}

export function flat(a: unknown): number[] {
  if (ArrayBuffer.isView(a)) return Array.from(a as unknown as ArrayLike<number>);
  if (Array.isArray(a)) return (a as unknown[]).flatMap((x) => (typeof x === 'number' ? [x] : flat(x)));
  if (typeof a === 'number') return [a];
  throw new Error(`flat: not numeric: ${typeof a}`);
}

/** Assert closeness: max |got - want| <= tol * max(1, max |want|). */
export function assertClose(got: unknown, want: unknown, tol: number, what: string): void {
  const g = flat(got);
  const w = flat(want);
  assert.is(g.length, w.length, `${what}: length ${g.length} vs ${w.length}`);
  let m = 0;
  let scale = 1;
  for (let i = 0; i < g.length; i++) {
    m = Math.max(m, Math.abs(g[i] - w[i]));
    scale = Math.max(scale, Math.abs(w[i]));
  }
  assert.ok(m <= tol * scale, `${what}: max abs diff ${m.toExponential(3)} > ${tol} * ${scale.toFixed(3)}`);
}

/** Run fn and assert it leaves tf.memory().numTensors unchanged. */
export async function assertNoLeak<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  assert.is(after, before, `${what}: leaked ${after - before} tensors`);
  return out;
}

export const SHARED = path.resolve(__dirname, '..', '..', 'shared');

/** The tiny LLaMA reference checkpoint (config.json, model.safetensors, expected.json): GQA, hidden 64, 2 layers. */
export const TINY_LLAMA_DIR: string = path.join(SHARED, 'conformance', 'llama', 'tiny-llama-gqa');

/** Assert fn throws and its message contains every part (a string, or a RegExp it must match). */
export function throwsWith(fn: () => unknown, parts: (string | RegExp)[], what = 'error'): void {
  let msg: string | null = null;
  try {
    fn();
  } catch (e) {
    msg = (e as Error).message;
  }
  assert.ok(msg !== null, `${what}: expected an error`);
  for (const p of parts) {
    const found = typeof p === 'string' ? msg!.includes(p) : p.test(msg!);
    assert.ok(found, `${what}: message ${JSON.stringify(msg)} lacks ${typeof p === 'string' ? JSON.stringify(p) : String(p)}`);
  }
}

/** max |a - b| of two tensors, as a number, without leaking. */
export function tensorMaxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Assert that an async function rejects with a message matching `re` (uvu/assert has no rejects). */
export async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected a rejection matching ${re}, but it resolved`);
  const msg = (err as Error).message ?? String(err);
  if (!re.test(msg)) throw new Error(`expected a rejection matching ${re}, got: ${msg}`);
}

/** Run fn (sync or async) with console.log / console.error captured; an error propagates after the console is restored. */
export async function captureConsole<T>(fn: () => T | Promise<T>): Promise<{ result: T; out: string; err: string }> {
  const log = console.log;
  const error = console.error;
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n');
  try {
    const result = await fn();
    return { result, out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Run fn with a fresh temporary folder `<os tmp>/<prefix>-XXXXXX`, removed afterwards whatever happens. */
export async function withTmpDir<T>(prefix: string, fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
