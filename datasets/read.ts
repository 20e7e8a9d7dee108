/**
 * Reading dataset files: JSON Lines and JSON arrays, with errors that name the file and the line (or record) at fault,
 * plus field accessors that say which field of which line is wrong.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

/** One parsed record and where it came from, for error messages. */
export interface Located<T = Record<string, unknown>> {
  value: T;
  /** `file:line` for JSONL, `file record #i` for JSON arrays. */
  where: string;
  /** 0-based record index. */
  index: number;
}

export function readText(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`dataset file not found: ${file}`);
  const buf = fs.readFileSync(file);
  return (file.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
}

/** Parse JSON Lines; blank lines are skipped, a bad line throws naming file and line number. */
export function parseJsonLines(text: string, file: string): Located[] {
  const out: Located[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: malformed JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}:${i + 1}: expected a JSON object per line`);
    out.push({ value: v as Record<string, unknown>, where: `${file}:${i + 1}`, index: out.length });
  }
  return out;
}

/**
 * Offset of the first JSON syntax error in `text` (a validating scan; Node 20's JSON.parse messages do not always
 * carry a position). Returns text.length when the text ends too early.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          str();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === close) {
          i++;
          return;
        }
        if (text[i] !== ',') fail();
        i++;
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const str = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail();
    i++;
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? at : -1;
  }
}

/** Line number (1-based) of a character offset, for JSON syntax errors in arrays. */
function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Parse a file holding a JSON array of objects, or JSON Lines (detected from the first non-space character). */
export function readRecords(file: string): Located[] {
  const text = readText(file);
  const first = text.trimStart()[0];
  if (first !== '[') return parseJsonLines(text, file);
  let arr: unknown;
  try {
    arr = JSON.parse(text);
  } catch (e) {
    const at = jsonErrorOffset(text);
    throw new Error(`${file}${at >= 0 ? `:${lineOf(text, at)}` : ''}: malformed JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(arr)) throw new Error(`${file}: expected a JSON array`);
  return arr.map((v, i) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file} record #${i}: expected a JSON object`);
    return { value: v as Record<string, unknown>, where: `${file} record #${i}`, index: i };
  });
}

/** A required string field; throws naming the field and the record. */
export function str(rec: Located, field: string): string {
  const v = rec.value[field];
  if (typeof v !== 'string') throw new Error(`${rec.where}: field '${field}' must be a string, got ${v === undefined ? 'nothing' : typeof v}`);
  return v;
}

/** A required finite number field. */
export function num(rec: Located, field: string): number {
  const v = rec.value[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${rec.where}: field '${field}' must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** A required array-of-strings field. */
export function strList(rec: Located, field: string): string[] {
  const v = rec.value[field];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${rec.where}: field '${field}' must be a list of strings`);
  return v as string[];
}

/** Keep the first `limit` records (all when undefined); validates the limit. */
export function take<T>(items: T[], limit: number | undefined, what: string): T[] {
  if (limit === undefined) return items;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`${what}: limit must be a non-negative integer, got ${limit}`);
  return items.slice(0, limit);
}
