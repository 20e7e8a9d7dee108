/**
 * `bonelab conformance <dir> [--backend wasm|cpu]`: run every PEFT conformance vector in a folder and print one line
 * per vector, then `N passed, N failed`. Exit code 1 if any failed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../backend';
import { formatResult, runConformance } from '../conformance/run';
import { parseCli } from './args';

const USAGE = 'usage: bonelab conformance <dir> [--backend wasm|cpu]';

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('conformance', argv, { backend: { type: 'string' } }, USAGE, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length !== 1) {
    console.error(`conformance: expected one folder of vectors, got ${parsed.positionals.length} arguments\n${USAGE}`);
    return 2;
  }
  const backend = parsed.values.backend;
  if (backend !== undefined && backend !== 'wasm' && backend !== 'cpu') {
    console.error(`conformance: --backend must be wasm or cpu, got '${backend}'`);
    return 2;
  }
  const dir = path.resolve(parsed.positionals[0]);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    console.error(`conformance: '${parsed.positionals[0]}' is not a folder`);
    return 2;
  }
  const used = await initBackend(backend);
  console.log(`# conformance vectors in ${parsed.positionals[0]} on backend ${used}`);
  const results = runConformance(dir);
  const w = Math.max(10, ...results.map((r) => r.id.length));
  for (const r of results) console.log(formatResult(r, w));
  const failed = results.filter((r) => r.status === 'fail').length;
  if (results.length === 0) console.error(`conformance: no *.json vectors in '${parsed.positionals[0]}'`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed > 0 || results.length === 0 ? 1 : 0;
}
