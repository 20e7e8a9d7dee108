/**
 * `bonelab forward --model <dir> --input-ids 1,2,3 [--out logits.json] [--backend wasm|cpu]`: the logits of a
 * checkpoint folder for one sequence, written as {"logits": [[...V], ...T rows]} (stdout without --out).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { loadModel } from '../models/load';
import { writeFileAtomic } from '../util/fs';
import { parseCli, type CliOptionsConfig } from './args';

const USAGE = 'usage: bonelab forward --model <dir> --input-ids 1,2,3 [--out logits.json] [--backend wasm|cpu]';

/** "1, 2,3" -> [1, 2, 3]; anything that is not a non-negative integer is an error naming it. */
export function parseIds(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) throw new Error('forward: --input-ids is empty');
  return parts.map((p, i) => {
    if (!/^\d+$/.test(p)) throw new Error(`forward: --input-ids entry ${i} ('${p}') is not a non-negative integer`);
    return Number(p);
  });
}

export async function run(argv: string[]): Promise<number> {
  const options = { model: { type: 'string' }, 'input-ids': { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } } satisfies CliOptionsConfig;
  const parsed = parseCli('forward', argv, options, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model || values['input-ids'] === undefined) {
    console.error(USAGE);
    return 2;
  }
  const ids = parseIds(values['input-ids']);
  await initBackend(values.backend);
  const model = loadModel(values.model);
  try {
    const bad = ids.findIndex((id) => id >= model.vocabSize);
    if (bad >= 0) throw new Error(`forward: input id ${ids[bad]} at position ${bad} is out of range for the model's vocab_size ${model.vocabSize}`);
    const input = tf.tensor2d([ids], [1, ids.length], 'int32');
    const logits = model.logits(input);
    const rows = ((await logits.array()) as number[][][])[0]; // [T, V]
    tf.dispose([input, logits]);
    const json = JSON.stringify({ logits: rows }) + '\n'; // compact: T x V numbers
    if (values.out) writeFileAtomic(values.out, json);
    else process.stdout.write(json);
  } finally {
    model.dispose();
  }
  return 0;
}
