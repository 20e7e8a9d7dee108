/**
 * A small declarative schema for plain JSON configs. Validation walks the value and throws naming the key path and
 * the offending value (`optimizer.lr: expected number, got "fast"`), for partial layers (missing keys allowed) and for
 * fully resolved configs (every key required).
 */

export class ExperimentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExperimentConfigError';
  }
}

export type Schema =
  | { t: 'string'; nonEmpty?: boolean }
  | { t: 'number'; int?: boolean; min?: number; gt?: number; max?: number }
  | { t: 'boolean' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'nullable'; of: Schema }
  | { t: 'array'; of: Schema; nonEmpty?: boolean }
  | { t: 'object'; fields: Record<string, Schema> }
  /** Checked by a function returning an error text (without the path) or null. */
  | { t: 'custom'; describe: string; check: (v: unknown, partial: boolean) => string | null };

export const S = {
  str: (nonEmpty = false): Schema => ({ t: 'string', nonEmpty }),
  num: (o: { int?: boolean; min?: number; gt?: number; max?: number } = {}): Schema => ({ t: 'number', ...o }),
  int: (min?: number): Schema => ({ t: 'number', int: true, min }),
  bool: (): Schema => ({ t: 'boolean' }),
  oneOf: (...values: string[]): Schema => ({ t: 'enum', values }),
  nullable: (of: Schema): Schema => ({ t: 'nullable', of }),
  array: (of: Schema, nonEmpty = false): Schema => ({ t: 'array', of, nonEmpty }),
  obj: (fields: Record<string, Schema>): Schema => ({ t: 'object', fields }),
};

/** Short rendering of a value for error messages. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `array [${v.length > 3 ? `${v.slice(0, 3).map(show).join(', ')}, ...` : v.map(show).join(', ')}]`;
  return 'object';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(s: Schema): string {
  switch (s.t) {
    case 'string':
      return 'string';
    case 'number':
      return s.int ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    case 'enum':
      return `one of ${s.values.map((x) => JSON.stringify(x)).join(' | ')}`;
    case 'nullable':
      return `${describe(s.of)} or null`;
    case 'array':
      return `array of ${describe(s.of)}`;
    case 'object':
      return 'object';
    case 'custom':
      return s.describe;
  }
}

/**
 * Validate `v` against `s`; `partial` allows missing object keys (an override layer). Throws ExperimentConfigError
 * `path: message`. Unknown object keys are always rejected, listing the known ones.
 */
export function validate(v: unknown, s: Schema, path: string, partial: boolean): void {
  const fail = (msg: string): never => {
    throw new ExperimentConfigError(`${path || '<root>'}: ${msg}`);
  };
  switch (s.t) {
    case 'string':
      if (typeof v !== 'string') fail(`expected string, got ${show(v)}`);
      if (s.nonEmpty && (v as string).length === 0) fail('expected a non-empty string');
      return;
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`expected ${describe(s)}, got ${show(v)}`);
      const n = v as number;
      if (s.int && !Number.isInteger(n)) fail(`expected integer, got ${n}`);
      if (s.min !== undefined && n < s.min) fail(`must be >= ${s.min}, got ${n}`);
      if (s.gt !== undefined && n <= s.gt) fail(`must be > ${s.gt}, got ${n}`);
      if (s.max !== undefined && n > s.max) fail(`must be <= ${s.max}, got ${n}`);
      return;
    }
    case 'boolean':
      if (typeof v !== 'boolean') fail(`expected boolean, got ${show(v)}`);
      return;
    case 'enum':
      if (typeof v !== 'string' || !s.values.includes(v)) fail(`expected ${describe(s)}, got ${show(v)}`);
      return;
    case 'nullable':
      if (v === null) return;
      try {
        validate(v, s.of, path, partial);
      } catch (e) {
        // Say that null was also allowed, keeping the inner message.
        if (e instanceof ExperimentConfigError && e.message.startsWith(`${path}: expected `)) {
          fail(e.message.slice(path.length + 2).replace(/^expected (.*?), got/, 'expected $1 or null, got'));
        }
        throw e;
      }
      return;
    case 'array':
      if (!Array.isArray(v)) fail(`expected ${describe(s)}, got ${show(v)}`);
      if (s.nonEmpty && (v as unknown[]).length === 0) fail('expected a non-empty array');
      (v as unknown[]).forEach((x, i) => validate(x, s.of, `${path}[${i}]`, partial));
      return;
    case 'object': {
      if (!isPlainObject(v)) fail(`expected object, got ${show(v)}`);
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (!(k in s.fields)) fail(`unknown key ${JSON.stringify(k)} (known: ${Object.keys(s.fields).join(', ')})`);
      }
      for (const [k, fs] of Object.entries(s.fields)) {
        const p = path ? `${path}.${k}` : k;
        if (!(k in o) || o[k] === undefined) {
          if (!partial) throw new ExperimentConfigError(`${p}: missing (expected ${describe(fs)})`);
          continue;
        }
        validate(o[k], fs, p, partial);
      }
      return;
    }
    case 'custom': {
      const err = s.check(v, partial);
      if (err) fail(err);
      return;
    }
  }
}

/**
 * Deep merge of plain JSON objects: objects merge key by key, anything else (arrays, null, numbers) replaces.
 * Inputs are not modified.
 */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return clone(patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...(clone(base) as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = k in out ? deepMerge(out[k], v) : clone(v);
  }
  return out as T;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
