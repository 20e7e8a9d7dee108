import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setupBackend } from '../util';
import { ToyLM } from '../train/toy';
import { matchedConfig } from '../../lib/bench/methods';
import { numAdapterParams } from '../../lib/adapters/registry';
import type { AdapterConfig } from '../../lib/adapters/types';
import type { Linear } from '../../lib/models/types';

test.before(async () => {
  await setupBackend();
});

test('matched budget: the LoRA-family rank whose count is closest to Bone r', () => {
  const model = new ToyLM(24, 16, 1); // proj [16, 16], lm_head [24, 16]
  const shapes: Linear[] = [...model.linears().values()];
  const count = (c: AdapterConfig) => shapes.reduce((a, l) => a + numAdapterParams(c, { out: l.outFeatures, in: l.inFeatures }), 0);
  const bone = matchedConfig('bone', 8, shapes);
  const lora = matchedConfig('lora', 8, shapes);
  assert.is(bone.kind, 'bone');
  assert.is(count(bone), 8 * (16 + 24));
  assert.is(lora.kind, 'lora');
  const r = (lora as { r: number }).r;
  const diff = (k: number) => Math.abs(count({ ...lora, r: k } as AdapterConfig) - count(bone));
  assert.ok(diff(r) <= diff(r - 1) && diff(r) <= diff(r + 1), `r=${r} is the closest count`);
  assert.is((lora as { alpha: number }).alpha, 2 * r, 'LoRA alpha = 2r as in the paper');
  assert.is((matchedConfig('pissa', 8, shapes) as { alpha: number }).alpha, (matchedConfig('pissa', 8, shapes) as { r: number }).r, 'PiSSA alpha = r');
  assert.is(matchedConfig('full', 8, shapes).kind, 'full');
  model.dispose();
});

test.run();
