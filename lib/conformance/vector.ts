/** The conformance vector schema (schema_version 1; see ../shared/conformance/README.md) and folder loading. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Nested = number | number[] | number[][] | number[][][];

export interface ConformanceVector {
  schema_version: number;
  id: string;
  method: string;
  description?: string;
  config: Record<string, unknown>;
  shapes: { out_features: number; in_features: number; batch: number };
  inputs: { W: number[][]; bias: number[] | null; x: number[][]; g: number[][] };
  params: Record<string, Nested>;
  expected: Record<string, unknown> & {
    y: number[][];
    grads?: Record<string, Nested>;
  };
  /** Init cases and residual methods: reference init values (sign-free fields) and extra init inputs. */
  init?: Record<string, unknown>;
  conversion_to_lora?: Record<string, unknown> & { r: number; lora_alpha: number; scaling: number; delta_weight: number[][] };
}

export interface ErrorCase {
  method: string;
  config: Record<string, unknown>;
  shape?: [number, number];
  base_dtype?: string;
  exception: string;
  message: string;
  where?: string;
}

export interface ErrorsFile {
  schema_version: number;
  id: string;
  method: 'errors';
  cases: ErrorCase[];
}

export type AnyVector = ConformanceVector | ErrorsFile;

export function isErrorsFile(v: AnyVector): v is ErrorsFile {
  return v.method === 'errors' && Array.isArray((v as ErrorsFile).cases);
}

/** Every *.json in dir, sorted by file name; a file that does not parse becomes a load error entry. */
export function loadVectorFolder(dir: string): { file: string; vector?: AnyVector; error?: string }[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`conformance: '${dir}' is not a folder`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => {
    try {
      const v = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as AnyVector;
      if (!v || typeof v !== 'object' || typeof v.method !== 'string') return { file, error: `not a conformance vector (no 'method')` };
      if (v.schema_version !== 1) return { file, error: `unsupported schema_version ${JSON.stringify(v.schema_version)} (expected 1)` };
      return { file, vector: v };
    } catch (e) {
      return { file, error: `cannot read: ${(e as Error).message}` };
    }
  });
}
