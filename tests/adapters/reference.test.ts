/**
 * Adapter maths against a float64 JS reference on shapes and options beyond the conformance sample: Bone/mini with
 * in % r != 0 and r > in, rsLoRA, Bat in both conventions, DoRA's detached norm, PiSSA on a matrix with a known SVD,
 * pissa_niter against the range-finder formula, OLoRA invariants, LoRA-GA scales, and the LoRA conversions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { assignParams } from '../../lib/adapters/common';
import { boneToLora, loraLayerFrom, residualToLora, toLora } from '../../lib/adapters/convert';
import { DoraLayer } from '../../lib/adapters/dora';
import { LoraLayer, type LoraFamilyConfig } from '../../lib/adapters/lora';
import { LoraGaLayer } from '../../lib/adapters/loraga';
import { createAdapter } from '../../lib/adapters/registry';
import type { AdapterConfig, AdapterLayer, CreateContext, LoraGaConfig } from '../../lib/adapters/types';
import { fromNested } from '../../lib/linalg/matrix';
import { singularValues } from '../../lib/linalg/svd';
import { createLinear, type LinearLayer } from '../../lib/models/linear';
import { Rng } from '../../lib/util/random';
import { assertNoLeak, setupBackend } from '../util';
import { add, batDelta, boneDelta, gramSchmidt, householder, linear, mm, rand, relErr, scaleM, t2, toM, tr, zerosM, type M } from './ref';

test.before(async () => {
  await setupBackend();
});

const TOL = 1e-5;

/** Build base + adapter from reference data, run fn, dispose everything (and check nothing leaked). */
async function withLayer(W: M, b: number[] | null, cfg: AdapterConfig, fn: (l: AdapterLayer, base: LinearLayer) => void, ctx: Partial<CreateContext> = {}): Promise<void> {
  await assertNoLeak(cfg.kind, () => {
    const wt = t2(W);
    const bt = b ? tf.tensor1d(b) : null;
    const base = createLinear('model.layers.1.self_attn.o_proj', wt, bt);
    tf.dispose([wt, ...(bt ? [bt] : [])]);
    const layer = createAdapter(base, cfg, { seed: 9, ...ctx });
    try {
      tf.tidy(() => fn(layer, base));
    } finally {
      layer.dispose();
      base.dispose();
    }
  });
}

/** dL/d(params) and dL/dx for L = sum(forward(x) * g). */
function grads(layer: AdapterLayer, x: tf.Tensor2D, g: tf.Tensor2D): { p: Record<string, M>; dx: M } {
  const params = layer.params();
  const { value, grads: gs } = tf.variableGrads(() => tf.sum(tf.mul(layer.forward(x), g)) as tf.Scalar, layer.trainableVariables());
  value.dispose();
  const p: Record<string, M> = {};
  for (const [k, v] of Object.entries(params)) p[k] = toM(gs[v.name]);
  return { p, dx: toM(tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.forward(xi as tf.Tensor2D), g)))(x)) };
}

// [out, in, r, miniR | null]: in % r != 0, r > in, r = in, in = 1, and mini tilings.
const BONE_SHAPES: [number, number, number, number | null][] = [
  [6, 10, 3, null],
  [5, 7, 7, null],
  [4, 3, 6, null],
  [3, 1, 2, null],
  [8, 12, 4, null],
  [8, 10, 4, 2],
  [6, 5, 7, 3],
];

for (const [out, inF, r, miniR] of BONE_SHAPES) {
  const kind = miniR ? `mini mini_r=${miniR}` : 'bone';
  test(`${kind} [${out}, ${inF}] r=${r}: efficient forward, delta, grads == dense W + ΔW reference; ≡ its LoRA; rank(ΔW) <= r`, async () => {
    const rng = new Rng(out * 100 + inF * 10 + r);
    const W = rand(rng, out, inF);
    const b = rng.normalArray(out).map((v) => v);
    const x = rand(rng, 4, inF);
    const g = rand(rng, 4, out);
    const block = rand(rng, r, miniR ?? out);
    const D = miniR ? block.map((row) => Array.from({ length: out }, (_, o) => row[o % miniR])) : block; // [r, out]
    const dW = boneDelta(D, inF);
    const cfg: AdapterConfig = miniR ? { kind: 'mini', r, miniR } : { kind: 'bone', r };
    await withLayer(W, Array.from(b), cfg, (layer) => {
      assignParams(layer, { miss_block: block });
      const xt = t2(x);
      const gt = t2(g);
      const Wm = add(W, dW);
      assert.ok(relErr(toM(layer.forward(xt)), linear(x, Wm, Array.from(b))) < TOL, 'forward');
      assert.ok(relErr(toM(layer.deltaWeight()), dW) < TOL, 'deltaWeight');
      const { p, dx } = grads(layer, xt, gt);
      // dL/dD[j, o] = sum_n S[n, j] g[n, o] with S[n, j] = sum_{i: i mod r = j} x[n, i]; mini sums D's tiles.
      const S = x.map((row) => Array.from({ length: r }, (_, j) => row.reduce((s, v, i) => s + (i % r === j ? v : 0), 0)));
      const dD = mm(tr(S), g);
      const dBlock = miniR ? dD.map((row) => Array.from({ length: miniR }, (_, c) => row.reduce((s, v, o) => s + (o % miniR === c ? v : 0), 0))) : dD;
      assert.ok(relErr(p.miss_block, dBlock) < TOL, 'dL/dblock');
      assert.ok(relErr(dx, mm(g, Wm)) < TOL, 'dL/dx');
      const exp = boneToLora(layer as never);
      const lora = loraLayerFrom(layer.base, exp);
      assert.is(lora.scaling, 1, 'alpha = r');
      assert.ok(relErr(toM(lora.forward(xt)), toM(layer.forward(xt))) < TOL, 'LoRA conversion gives the same outputs');
      lora.dispose();
      tf.dispose(Object.values(exp.params));
      if (r < Math.min(out, inF)) {
        const sv = singularValues(fromNested(dW));
        assert.ok(sv[r] < 1e-9 * sv[0], `rank(ΔW) <= r: S[r] = ${sv[r]}`);
      }
      layer.merge();
      assert.ok(relErr(toM(layer.base.weight), Wm) < TOL, 'merge works (also for r > in)');
      layer.unmerge();
      assert.ok(relErr(toM(layer.base.weight), W) < TOL, 'unmerge');
    });
  });
}

for (const [r, alpha, rslora, loraBias] of [
  [1, 3, true, false],
  [4, 8, true, true],
  [9, 2, false, true],
] as const) {
  test(`lora r=${r} alpha=${alpha} rslora=${rslora} lora_bias=${loraBias}: scaling and forward == reference`, async () => {
    const rng = new Rng(r * 7);
    const [out, inF] = [7, 5];
    const W = rand(rng, out, inF);
    const b = Array.from(rng.normalArray(out));
    const A = rand(rng, r, inF);
    const B = rand(rng, out, r);
    const bB = Array.from(rng.normalArray(out));
    const x = rand(rng, 3, inF);
    const s = rslora ? alpha / Math.sqrt(r) : alpha / r;
    await withLayer(W, b, { kind: 'lora', r, alpha, rslora, init: 'kaiming', loraBias }, (layer) => {
      assignParams(layer, loraBias ? { lora_A: A, lora_B: B, lora_B_bias: bB } : { lora_A: A, lora_B: B });
      assert.ok(Math.abs((layer as LoraLayer).scaling - s) < 1e-15, `scaling ${(layer as LoraLayer).scaling} vs ${s}`);
      const want = add(linear(x, W, b), linear(mm(x, tr(A)), B, loraBias ? bB : null), s);
      assert.ok(relErr(toM(layer.forward(t2(x))), want) < TOL, 'forward');
      assert.ok(relErr(toM(layer.deltaWeight()), scaleM(mm(B, A), s)) < TOL, 'delta');
      layer.merge();
      assert.ok(relErr(toM(layer.base.bias!), b.map((v, o) => v + (loraBias ? s * bB[o] : 0))) < TOL, 'merge adds s * lora_B bias');
      layer.unmerge();
      assert.ok(relErr(toM(layer.base.bias!), b) < TOL, 'unmerge restores the bias');
    });
  });
}

for (const [out, inF, r] of [
  [6, 9, 3],
  [8, 4, 2],
  [4, 4, 4],
] as const) {
  for (const convention of ['out-block', 'in-block'] as const) {
    test(`bat ${convention} [${out}, ${inF}] r=${r}: forward, delta and exact block grads == tile formula; unmerge inverts`, async () => {
      const rng = new Rng(out + inF + r);
      const W = rand(rng, out, inF);
      const nb = (convention === 'out-block' ? out : inF) / r;
      const blocks = Array.from({ length: nb }, () => rand(rng, r, r, 0.3));
      const x = rand(rng, 3, inF);
      const g = rand(rng, 3, out);
      const loss = (bl: number[][][]) => linear(x, add(W, batDelta(W, bl, r, convention)), null).reduce((s, row, n) => s + row.reduce((t, v, o) => t + v * g[n][o], 0), 0);
      await withLayer(W, null, { kind: 'bat', r, convention }, (layer) => {
        assignParams(layer, { miss_block: blocks });
        const dW = batDelta(W, blocks, r, convention);
        assert.ok(relErr(toM(layer.deltaWeight()), dW) < TOL, 'delta');
        assert.ok(relErr(toM(layer.forward(t2(x))), linear(x, add(W, dW), null)) < TOL, 'forward');
        // L is affine in the block, so a unit finite difference is the exact gradient.
        const l0 = loss(blocks);
        const want = blocks.map((Bk, k) => Bk.map((row, i) => row.map((_, j) => loss(blocks.map((bb, kk) => bb.map((rr, ii) => rr.map((v, jj) => v + (kk === k && ii === i && jj === j ? 1 : 0))))) - l0)));
        const { p } = grads(layer, t2(x), t2(g));
        assert.ok(relErr(p.miss_block, want as unknown as M) < 1e-4, 'dL/dblock');
        layer.merge();
        layer.unmerge();
        assert.ok(relErr(toM(layer.base.weight), W) < 1e-4, 'unmerge((W - B)(I + B)^-1)');
      });
    });
  }
}

test('bat unmerge with a singular I + B is a clear error naming the module', async () => {
  const rng = new Rng(2);
  const W = rand(rng, 4, 4);
  await withLayer(W, null, { kind: 'bat', r: 2, convention: 'out-block' }, (layer) => {
    assignParams(layer, { miss_block: [[[-1, 0], [0, -1]], [[0.1, 0], [0, 0.1]]] });
    layer.merge();
    assert.throws(() => layer.unmerge(), /o_proj: bat unmerge needs I \+ block\[0\] to be invertible/);
  });
});

test('dora [7, 9] r=2 rslora: forward and grads == reference with the norm treated as a constant', async () => {
  const rng = new Rng(21);
  const [out, inF, r, alpha] = [7, 9, 2, 3];
  const s = alpha / Math.sqrt(r);
  const W = rand(rng, out, inF);
  const b = Array.from(rng.normalArray(out));
  const A = rand(rng, r, inF);
  const B = rand(rng, out, r);
  const m = Array.from({ length: out }, () => 1 + 0.3 * rng.normal());
  const x = rand(rng, 4, inF);
  const g = rand(rng, 4, out);
  const V = add(W, mm(B, A), s);
  const n = V.map((row) => Math.sqrt(row.reduce((t, v) => t + v * v, 0)));
  const lin = mm(x, tr(V)); // [N, out]
  const f = m.map((mo, o) => mo / n[o]);
  await withLayer(W, b, { kind: 'dora', r, alpha, rslora: true }, (layer) => {
    assignParams(layer, { lora_A: A, lora_B: B, lora_magnitude_vector: m });
    assert.ok(relErr(toM((layer as DoraLayer).weightNorm()), n) < TOL, 'weight norm');
    assert.ok(relErr(toM(layer.forward(t2(x))), lin.map((row) => row.map((v, o) => f[o] * v + b[o]))) < TOL, 'forward');
    const { p } = grads(layer, t2(x), t2(g));
    const dm = m.map((_, o) => lin.reduce((t, row, k) => t + (g[k][o] * row[o]) / n[o], 0));
    const gf = g.map((row) => row.map((v, o) => v * f[o])); // dL/d(lin) with n constant
    assert.ok(relErr(p.lora_magnitude_vector, dm) < TOL, 'dL/dm');
    assert.ok(relErr(p.lora_B, scaleM(mm(tr(gf), mm(x, tr(A))), s)) < TOL, 'dL/dB (no gradient through n)');
    assert.ok(relErr(p.lora_A, scaleM(mm(tr(mm(gf, B)), x), s)) < TOL, 'dL/dA (no gradient through n)');
  });
});

test('pissa on a matrix with a known SVD: s B0 A0 is the rank-r truncation, whatever alpha', async () => {
  const rng = new Rng(5);
  const [out, inF, r] = [7, 9, 3];
  const sigma = [5, 4, 3, 2, 1, 0.5, 0.25];
  const H1 = householder(Array.from(rng.normalArray(out)));
  const H2 = householder(Array.from(rng.normalArray(inF)));
  const D = zerosM(out, inF);
  sigma.forEach((v, i) => (D[i][i] = v));
  const W = mm(mm(H1, D), H2);
  const Dr = D.map((row, i) => row.map((v) => (i < r ? v : 0)));
  const top = mm(mm(H1, Dr), H2);
  for (const [alpha, rslora] of [[2, false], [7, true]] as const) {
    await withLayer(W, null, { kind: 'pissa', r, alpha, rslora, niter: null }, (layer) => {
      const l = layer as LoraLayer<LoraFamilyConfig>;
      assert.ok(relErr(toM(l.deltaWeight()), top) < TOL, 's B0 A0 = U_r S_r V_r^T');
      assert.ok(relErr(toM(layer.base.weight), add(W, top, -1)) < TOL, 'base = W - top');
    });
  }
});

test('pissa_niter_3 with an explicit omega: s B0 A0 = W Q Q^T (torch.svd_lowrank), both for wide and tall weights', async () => {
  const rng = new Rng(8);
  for (const [out, inF] of [[6, 11], [11, 6]] as const) {
    const r = 2;
    const W = rand(rng, out, inF);
    const omega = rand(rng, out, r); // torch draws [m, q] whenever m < n or n > q
    let Q = gramSchmidt(mm(tr(W), omega));
    for (let i = 0; i < 3; i++) Q = gramSchmidt(mm(tr(W), gramSchmidt(mm(W, Q))));
    await withLayer(W, null, { kind: 'pissa', r, alpha: 3, rslora: false, niter: 3 }, (layer) => {
      assert.ok(relErr(toM(layer.deltaWeight()), mm(mm(W, Q), tr(Q))) < TOL, `[${out}, ${inF}]`);
    }, { omega });
  }
});

test('olora [9, 6] r=4 alpha=3: B0^T B0 = I, (B0 A0)[:, :r] = W[:, :r], W_res = W - s B0 A0', async () => {
  const rng = new Rng(13);
  const W = rand(rng, 9, 6);
  await withLayer(W, null, { kind: 'olora', r: 4, alpha: 3, rslora: false }, (layer) => {
    const init = layer.initialParams!()!;
    const A0 = toM(init.lora_A);
    const B0 = toM(init.lora_B);
    const BA = mm(B0, A0);
    assert.ok(relErr(mm(tr(B0), B0), [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) < TOL);
    assert.ok(relErr(BA.map((row) => row.slice(0, 4)), W.map((row) => row.slice(0, 4))) < TOL);
    assert.ok(relErr(toM(layer.base.weight), add(W, BA, -3 / 4)) < TOL);
    tf.dispose(Object.values(init));
  });
});

// direction -> [idx_A, idx_B] for r = 2.
const GA_DIRECTIONS: [LoraGaConfig['direction'], number[], number[]][] = [
  ['ArBr', [1, 3], [0, 2]],
  ['A2rBr', [2, 3], [0, 1]],
  ['ArB2r', [0, 1], [2, 3]],
];
for (const [direction, ia, ib] of GA_DIRECTIONS) {
  for (const scale of ['stable', 'weight_svd', 'gd_scale', 'unit'] as const) {
    test(`loraga ${direction} ${scale}: picks triplets ${ia}/${ib}, B = U S (scaled), W_res + s B0 A0 = W`, async () => {
      const rng = new Rng(31);
      const [out, inF, r, alpha] = [10, 8, 2, 6];
      const s = alpha / r;
      const W = rand(rng, out, inF);
      const G = rand(rng, out, inF);
      const S = singularValues(fromNested(G));
      const sigmaW = singularValues(fromNested(W))[0];
      const cfg: LoraGaConfig = { kind: 'loraga', r, alpha, rslora: false, direction, scale, stableGamma: 9 };
      const initGrad = t2(G);
      await withLayer(W, null, cfg, (layer) => {
        const l = layer as LoraGaLayer;
        assert.equal(l.indices, { a: ia, b: ib });
        assert.ok(relErr(l.initSingularValues, ib.map((i) => S[i])) < TOL, 'S_B (of the float32 gradient)');
        const init = layer.initialParams!()!;
        const A0 = toM(init.lora_A);
        const B0 = toM(init.lora_B);
        const factor = { stable: Math.pow(out, 0.25) / 3, weight_svd: sigmaW / S[ib[0]], gd_scale: 1 / s, unit: 1 }[scale];
        const colNorms = tr(B0).map((c) => Math.sqrt(c.reduce((t, v) => t + v * v, 0)));
        assert.ok(relErr(colNorms, ib.map((i) => S[i] * factor)) < TOL, 'B column norms = S_J * scale');
        const rowNorms = A0.map((row) => Math.sqrt(row.reduce((t, v) => t + v * v, 0)));
        assert.ok(relErr(rowNorms, [1, 1].map((v) => (scale === 'gd_scale' ? v / s : v))) < TOL, 'A rows are unit singular vectors');
        assert.ok(relErr(add(toM(layer.base.weight), mm(B0, A0), s), W) < TOL, 'residual');
        tf.dispose(Object.values(init));
      }, { initGrad });
      initGrad.dispose();
    });
  }
}

test('loraga random: seeded indices are one permutation shared by A and B, reproducible per seed', async () => {
  const rng = new Rng(3);
  const W = rand(rng, 9, 9);
  const initGrad = t2(rand(rng, 9, 9));
  const cfg: LoraGaConfig = { kind: 'loraga', r: 3, alpha: 3, rslora: false, direction: 'random', scale: 'unit', stableGamma: 16 };
  const seen: string[] = [];
  for (const seed of [1, 1, 2]) {
    await withLayer(W, null, cfg, (layer) => {
      const { a, b } = (layer as LoraGaLayer).indices;
      assert.equal(a, b);
      assert.equal([...a].sort(), [...new Set(a)].sort(), 'distinct');
      assert.ok(a.every((i) => i >= 0 && i < 6));
      seen.push(a.join(','));
    }, { initGrad, seed });
  }
  assert.is(seen[0], seen[1], 'same seed, same indices');
  initGrad.dispose();
});

for (const cfg of [
  { kind: 'pissa', r: 3, alpha: 5, rslora: true, niter: null },
  { kind: 'olora', r: 2, alpha: 4, rslora: false },
  { kind: 'loraga', r: 2, alpha: 2, rslora: true, direction: 'ArBr', scale: 'stable', stableGamma: 16 },
] as AdapterConfig[]) {
  test(`${cfg.kind} -> rank-2r LoRA on the ORIGINAL weight gives the same outputs (alpha' = ${'rslora' in cfg && cfg.rslora ? 'sqrt(2)' : '2'} alpha)`, async () => {
    const rng = new Rng(17);
    const W = rand(rng, 8, 10);
    const x = rand(rng, 3, 10);
    const initGrad = t2(rand(rng, 8, 10));
    await withLayer(W, null, cfg, (layer) => {
      const l = layer as LoraLayer<LoraFamilyConfig>;
      assignParams(layer, { lora_A: rand(rng, l.config.r, 10), lora_B: rand(rng, 8, l.config.r) });
      const exp = residualToLora(l);
      assert.is(exp.config.r, 2 * l.config.r);
      assert.ok(Math.abs(exp.config.alpha - (l.config.rslora ? Math.SQRT2 : 2) * l.config.alpha) < 1e-12);
      const w0 = t2(W);
      const orig = createLinear('orig', w0);
      w0.dispose();
      const lora = loraLayerFrom(orig, exp);
      assert.ok(Math.abs(lora.scaling - l.scaling) < 1e-12, 'scaling preserved');
      assert.ok(relErr(toM(lora.forward(t2(x))), toM(layer.forward(t2(x)))) < TOL);
      lora.dispose();
      orig.dispose();
      tf.dispose(Object.values(exp.params));
    }, { initGrad });
    initGrad.dispose();
  });
}

test('toLora refuses methods without an exact LoRA form, naming the module', async () => {
  await withLayer(rand(new Rng(1), 4, 4), null, { kind: 'bat', r: 2, convention: 'out-block' }, (layer) => {
    assert.throws(() => toLora(layer), /o_proj: a bat adapter has no exact LoRA form/);
  });
});

test.run();
