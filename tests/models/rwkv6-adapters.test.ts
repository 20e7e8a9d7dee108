/**
 * Every adapter kind on RWKV6 through the generic injection, on the paper's 8 targets: init no-op where the method
 * promises one, merged == unmerged after training, only adapter variables move, unmerge restores the base, no leaks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertNoLeak, tensorMaxDiff } from '../util';
import { ADAPTER_KINDS, resolveAdapterConfig, numAdapterParams } from '../../lib/adapters/registry';
import type { AdapterConfig, AdapterKind } from '../../lib/adapters/types';
import { adapterLayers, injectAdapters, mergeAndUnload } from '../../lib/models/inject';
import { listLinears, resolveModelShape } from '../../lib/models/presets';
import { Rwkv6Model } from '../../lib/models/rwkv6';
import { RWKV6_TARGETS } from '../../lib/models/rwkv6-config';
import { randomWeights, tinyConfig } from './rwkv6-ref';

test.before(async () => {
  await setupBackend();
});

const cfg = tinyConfig(); // C = dim_att = 16, dim_ffn = 32: every target is [16|32, 16|32]
const IDS = [
  [1, 5, 9, 2, 22, 0, 7, 13],
  [4, 4, 8, 15, 16, 23 % 23, 42 % 23, 3],
];

interface Case {
  adapter: { kind: AdapterKind; [k: string]: unknown };
  /** The method promises an unchanged function at init. */
  noop: boolean;
  lr: number;
  /** Full fine-tuning: every linear (head included) is adapted and every base parameter trains. */
  trainsBase?: boolean;
}

/** One case per kind (plus variants); quirks live here, not in the test body. */
const CASES: Case[] = [
  { adapter: { kind: 'bone', r: 4 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'bone', r: 5 }, noop: true, lr: 1e-2 }, // r does not divide 16 or 32: zero-padded shards
  { adapter: { kind: 'mini', r: 4, miniR: 4 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'bat', r: 4, convention: 'out-block' }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'bat', r: 4, convention: 'in-block' }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'lora', r: 4, alpha: 8 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'lora', r: 4, alpha: 8, rslora: true, init: 'none' }, noop: false, lr: 1e-2 },
  { adapter: { kind: 'pissa', r: 4, alpha: 4 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'pissa', r: 4, alpha: 4, niter: 2 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'olora', r: 4, alpha: 4 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'dora', r: 4, alpha: 8 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'loraga', r: 4, alpha: 8 }, noop: true, lr: 1e-2 },
  { adapter: { kind: 'full' }, noop: true, lr: 1e-3, trainsBase: true },
];

test('every adapter kind has a case', () => {
  for (const k of ADAPTER_KINDS) assert.ok(CASES.some((c) => c.adapter.kind === k), `no RWKV6 case for ${k}`);
});

function logitsOf(m: Rwkv6Model): tf.Tensor3D {
  return tf.tidy(() => m.logits(tf.tensor2d(IDS, [2, 8], 'int32')));
}

function lossOf(m: Rwkv6Model): tf.Scalar {
  return tf.tidy(() => {
    const x = tf.tensor2d(IDS, [2, 8], 'int32');
    return m.loss(x, x);
  });
}

/** LoRA-GA's init needs dL/dW of each target base weight: one backward pass with the bases made trainable. */
function baseGradients(m: Rwkv6Model, names: string[]): Map<string, tf.Tensor2D> {
  const lins = m.linears();
  const ws = names.map((n) => lins.get(n)!.weight);
  ws.forEach((w) => (w.trainable = true));
  const { value, grads } = tf.variableGrads(() => lossOf(m), ws);
  ws.forEach((w) => (w.trainable = false));
  value.dispose();
  return new Map(names.map((n, i) => [n, grads[ws[i].name] as tf.Tensor2D]));
}

const snapshot = (vars: Map<string, tf.Variable>) => new Map([...vars].map(([n, v]) => [n, tf.clone(v)]));

for (const c of CASES) {
  const label = JSON.stringify(c.adapter);
  test(`${label}: init, one step, merge == unmerged, only adapter variables move, no leaks`, async () => {
    await assertNoLeak(label, () => {
      const adapter = resolveAdapterConfig(c.adapter) as AdapterConfig;
      const m = new Rwkv6Model(cfg, randomWeights(cfg, 5), { chunkLen: 4 });
      const before = logitsOf(m);
      const grads = adapter.kind === 'loraga' ? baseGradients(m, [...m.linears().keys()].filter((n) => n !== 'head')) : null;
      const names = injectAdapters(m, { adapter, targets: RWKV6_TARGETS, seed: 3 }, (n) => (grads ? { initGrad: grads.get(n) } : {}));
      if (grads) tf.dispose([...grads.values()]);
      const expected = c.trainsBase ? [...m.linears().keys()] : [...m.linears().keys()].filter((n) => n !== 'head');
      assert.equal(names, expected, c.trainsBase ? 'every linear' : 'the 8 RWKV-PEFT targets per block, never the head');
      const init = logitsOf(m);
      const initDiff = tensorMaxDiff(init, before);
      if (c.noop) assert.ok(initDiff < 2e-4, `init is a no-op (max logit change ${initDiff})`);
      else assert.ok(initDiff > 1e-3, `init changes the function (max logit change ${initDiff})`);

      // One optimiser step on model.trainableVariables().
      const vars = m.trainableVariables();
      const layers = adapterLayers(m);
      const adapterVars = new Set([...layers.values()].flatMap((a) => a.trainableVariables()));
      if (c.trainsBase) assert.equal(new Set(vars), new Set(m.parameters().values()), 'full fine-tuning trains every parameter');
      else assert.equal(new Set(vars), adapterVars, 'trainable variables are exactly the adapters\'');
      const expectCount = [...layers.values()].reduce((s, a) => s + a.numTrainableParams(), 0);
      const closedForm = names.reduce((s, n) => {
        const l = m.linears().get(n)!;
        return s + numAdapterParams(adapter, { out: l.outFeatures, in: l.inFeatures, bias: false });
      }, 0);
      assert.is(expectCount, closedForm, 'parameter count equals the closed form');
      const baseBefore = snapshot(m.parameters());
      const adapterBefore = vars.map((v) => tf.clone(v));
      const opt = tf.train.adam(c.lr);
      opt.minimize(() => lossOf(m), false, vars);
      opt.dispose();
      const moved = vars.filter((v, i) => tensorMaxDiff(v, adapterBefore[i]) > 0).length;
      assert.ok(moved > 0, 'some adapter variable changed');
      for (const [n, v] of m.parameters()) {
        const d = tensorMaxDiff(v, baseBefore.get(n)!);
        if (c.trainsBase) assert.ok(d > 0, `full fine-tuning moved ${n}`);
        else assert.is(d, 0, `base ${n} unchanged`);
      }

      // Merged forward equals the unmerged forward; unmerge restores the base.
      const unmerged = logitsOf(m);
      for (const a of layers.values()) a.merge({ safe: true });
      const merged = logitsOf(m);
      assert.ok(tensorMaxDiff(merged, unmerged) < 2e-4, `merged == unmerged (max diff ${tensorMaxDiff(merged, unmerged)})`);
      for (const a of layers.values()) a.unmerge();
      const back = logitsOf(m);
      assert.ok(tensorMaxDiff(back, unmerged) < 2e-4, 'unmerge restores the function');
      mergeAndUnload(m);
      const unloaded = logitsOf(m);
      assert.ok(tensorMaxDiff(unloaded, unmerged) < 2e-4, 'mergeAndUnload keeps the function');
      assert.is(m.trainableVariables().length, 0, 'nothing trainable after unload');
      tf.dispose([before, init, unmerged, merged, back, unloaded, ...baseBefore.values(), ...adapterBefore]);
      m.dispose();
    });
  });
}

test("paper budget on RWKV6-7B's 8 targets: Bone r=64 and LoRA r=32 both train 88,080,384 parameters", () => {
  const linears = listLinears(resolveModelShape('rwkv6-7b').shape).filter((l) => RWKV6_TARGETS.some((t) => l.name.endsWith(`.${t}`)));
  assert.is(linears.length, 8 * 32);
  const count = (a: AdapterConfig) => linears.reduce((s, l) => s + numAdapterParams(a, { out: l.out, in: l.in, bias: false }), 0);
  assert.is(count(resolveAdapterConfig({ kind: 'bone', r: 64 })), 88_080_384);
  assert.is(count(resolveAdapterConfig({ kind: 'lora', r: 32 })), 88_080_384);
});

test('targets that match nothing are rejected naming the target', () => {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, 6));
  assert.throws(() => injectAdapters(m, { adapter: resolveAdapterConfig({ kind: 'bone', r: 4 }), targets: ['att.query'], seed: 0 }), /'att\.query' matches no linear module/);
  m.dispose();
});

test.run();
