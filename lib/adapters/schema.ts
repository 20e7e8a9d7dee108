/**
 * Field schemas for adapter configs: every config is a plain JSON object, and each method lists its fields with a
 * type so that resolving a partial config can reject unknown keys and wrong types, naming the field and the value.
 */
import { AdapterConfigError } from './types';

export type FieldSpec =
  /** A positive integer rank, rejected with PEFT's own wording. */
  | { type: 'rank' }
  | { type: 'posint' }
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  /** A non-negative integer or null (pissa niter: null = exact SVD). */
  | { type: 'count-or-null' };

/** One FieldSpec per config field except `kind`. */
export type FieldTable<C> = { [K in Exclude<keyof C, 'kind'>]-?: FieldSpec };

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

/** Throw unless value matches spec; the message names the config kind, the field and the value. */
export function checkField(kind: string, field: string, spec: FieldSpec, value: unknown): void {
  const fail = (want: string): never => {
    throw new AdapterConfigError(`adapter config (${kind}): field '${field}' must be ${want}, got ${show(value)}`);
  };
  switch (spec.type) {
    case 'rank':
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
        throw new AdapterConfigError(`adapter config (${kind}): \`${field}\` should be a positive integer value but the value passed is ${show(value)}`);
      }
      return;
    case 'posint':
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail('a positive integer');
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('a finite number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) fail(`one of ${spec.values.map((v) => `'${v}'`).join(', ')}`);
      return;
    case 'count-or-null':
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) fail('null or a non-negative integer');
      return;
  }
}

/** Type-check every field of a complete config against its table (unknown keys rejected too). */
export function checkFields(kind: string, fields: Record<string, FieldSpec>, cfg: Record<string, unknown>): void {
  for (const k of Object.keys(cfg)) {
    if (k !== 'kind' && !(k in fields)) {
      throw new AdapterConfigError(`adapter config (${kind}): unknown field '${k}' (known: ${Object.keys(fields).join(', ')})`);
    }
  }
  for (const [k, spec] of Object.entries(fields)) {
    if (!(k in cfg)) throw new AdapterConfigError(`adapter config (${kind}): missing field '${k}'`);
    checkField(kind, k, spec, cfg[k]);
  }
}
