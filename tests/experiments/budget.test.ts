import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveAdapterConfig } from '../../lib/adapters/registry';
import { countTrainable, matchRankOnShapes } from '../../lib/experiments/budget';
import { PRESETS, listLinears } from '../../lib/models/presets';
import { selectTargets } from '../../lib/models/targets';

function shapes(preset: string, targets: 'all-linear' | string[]) {
  const all = listLinears(PRESETS[preset]);
  const chosen = new Set(selectTargets(all.map((l) => l.name), targets));
  return all.filter((l) => chosen.has(l.name));
}

const bone64 = resolveAdapterConfig({ kind: 'bone', r: 64 });

test('paper budget: Bone r=64 on LLaMA2-7B (7 modules) is 87.03M and pairs with LoRA/PiSSA/OLoRA r=36 (89.95M)', () => {
  const s = shapes('llama2-7b', 'all-linear');
  assert.is(s.length, 7 * 32);
  assert.is(countTrainable(bone64, s), 87_031_808);
  for (const kind of ['lora', 'pissa', 'olora']) {
    const m = matchRankOnShapes(resolveAdapterConfig({ kind }), bone64, s);
    assert.is(m.r, 36, kind);
    assert.is(m.count, 89_948_160, kind);
    assert.is(m.referenceCount, 87_031_808);
  }
});

test('paper budget: Mistral-7B pairs Bone r=64 (88.08M) with r=34 (89.13M); RWKV6-7B with r=32 (88.08M both)', () => {
  const lora = resolveAdapterConfig({ kind: 'lora' });
  const mistral = matchRankOnShapes(lora, bone64, shapes('mistral-7b', 'all-linear'));
  assert.equal([mistral.r, mistral.referenceCount, mistral.count], [34, 88_080_384, 89_128_960]);
  const rwkv = matchRankOnShapes(lora, bone64, shapes('rwkv6-7b', 'all-linear'));
  assert.equal([rwkv.r, rwkv.referenceCount, rwkv.count], [32, 88_080_384, 88_080_384]);
});

test('PEFT benchmark budget: Bone r=64 on Llama-3.2-3B q_proj/v_proj is 7,340,032', () => {
  assert.is(countTrainable(bone64, shapes('llama-3.2-3b', ['q_proj', 'v_proj'])), 7_340_032);
});

test('ranks a method cannot take are skipped: Bat matches Bone at the same r (same count), skipping r=6', () => {
  const s = [{ name: 'a.q', out: 64, in: 64 }, { name: 'a.up', out: 176, in: 64 }];
  const m = matchRankOnShapes(resolveAdapterConfig({ kind: 'bat' }), resolveAdapterConfig({ kind: 'bone', r: 8 }), s);
  assert.equal([m.r, m.count, m.referenceCount], [8, 8 * 240, 8 * 240]);
});

test('budget errors name the module and the field', () => {
  const s = shapes('llama2-7b', ['q_proj']);
  // Bat needs r to divide in and out: 4096 % 48 != 0.
  assert.throws(() => countTrainable(resolveAdapterConfig({ kind: 'bat', r: 48 }), s), /model\.layers\.0\.self_attn\.q_proj/);
  // LoRA on a 4x4 layer can reach at most r*(4+4) per rank, but PiSSA's r may not exceed min(out, in) = 4, and a
  // reference larger than any LoRA count has no match.
  const tiny = [{ name: 'm.lin', out: 4, in: 4 }];
  const huge = [{ name: 'm.lin', out: 4, in: 4 }, { name: 'm.big', out: 4, in: 4 }];
  assert.throws(() => matchRankOnShapes(resolveAdapterConfig({ kind: 'lora' }), resolveAdapterConfig({ kind: 'full' }), tiny.map((t) => ({ ...t, out: 1, in: 1 }))), /no lora rank up to 1 reaches full/);
  assert.is(matchRankOnShapes(resolveAdapterConfig({ kind: 'lora' }), resolveAdapterConfig({ kind: 'full' }), huge).r, 2, '2*(4+4) = 16 = 4*4');
});

test.run();
