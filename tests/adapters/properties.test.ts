/** Properties every adapter method must satisfy, run over the CASES table (titles: `<case>: <property>`). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { numAdapterParams } from '../../lib/adapters/registry';
import { assertClose, assertNoLeak, setupBackend, tensorMaxDiff } from '../util';
import { CASES, build, input, originalForward, perturb } from './cases';

test.before(async () => {
  await setupBackend();
});

const TOL = 2e-5;

for (const c of CASES) {
  test(`${c.name}: identity at init (or, if the init is not a no-op, a changed output)`, () => {
    const b = build(c);
    const { x, g } = input(c);
    const y = b.layer.forward(x);
    const y0 = originalForward(b, x);
    const merged = b.layer.mergedWeight();
    if (c.identityAtInit) {
      assertClose(y.dataSync(), y0.dataSync(), TOL, 'forward == original forward');
      // Residual methods: W_res + adapter reproduces W.
      assertClose(merged.dataSync(), b.w0, TOL, 'merged weight == original W');
    } else {
      assert.ok(tensorMaxDiff(y, y0) > 1e-3, 'a non-identity init changes the output');
    }
    const moved = Math.max(...Array.from(b.base.weight.dataSync(), (v, i) => Math.abs(v - b.w0[i])));
    assert.is(moved > 1e-3, c.modifiesBase, `base weight moved by ${moved}`);
    tf.dispose([x, g, y, y0, merged]);
    b.dispose();
  });

  test(`${c.name}: merged forward equals unmerged forward, and unmerge(merge(W)) = W`, () => {
    const b = build(c);
    perturb(b.layer, c.perturb);
    const { x, g } = input(c);
    const before = tf.clone(b.base.weight);
    const y = b.layer.forward(x);
    const want = b.layer.mergedWeight();
    b.layer.merge();
    assert.ok(b.layer.merged);
    assertClose(b.base.weight.dataSync(), want.dataSync(), TOL, 'merge writes mergedWeight()');
    const ym = b.layer.forward(x);
    assertClose(ym.dataSync(), y.dataSync(), TOL, 'merged forward');
    b.layer.unmerge();
    assert.not.ok(b.layer.merged);
    assertClose(b.base.weight.dataSync(), before.dataSync(), TOL, 'unmerge(merge(W))');
    const yu = b.layer.forward(x);
    assertClose(yu.dataSync(), y.dataSync(), TOL, 'forward after unmerge');
    tf.dispose([x, g, before, y, want, ym, yu]);
    b.dispose();
  });

  test(`${c.name}: merge twice and unmerge without merge are errors naming the module`, () => {
    const b = build(c);
    assert.throws(() => b.layer.unmerge(), /up_proj: unmerge\(\) called but the adapter is not merged/);
    b.layer.merge();
    assert.throws(() => b.layer.merge(), /up_proj: merge\(\) called but the adapter is already merged/);
    b.layer.unmerge();
    b.dispose();
  });

  test(`${c.name}: one optimiser step changes only the adapter's variables`, () => {
    const b = build(c);
    perturb(b.layer, c.perturb);
    const { x, g } = input(c);
    const trainable = new Set(b.layer.trainableVariables());
    const all = [b.base.weight, ...(b.base.bias ? [b.base.bias] : []), ...trainable];
    const snap = new Map(all.map((v) => [v, Float32Array.from(v.dataSync())]));
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.sum(tf.mul(b.layer.forward(x), g)) as tf.Scalar, true, [...trainable])?.dispose();
    // Away from the init point every adapter variable has a non-zero gradient, so each one must move.
    for (const v of all) {
      const d = Math.max(...Array.from(v.dataSync(), (e, i) => Math.abs(e - snap.get(v)![i])));
      if (trainable.has(v)) assert.ok(d > 0, `trainable variable [${v.shape}] did not change`);
      else assert.is(d, 0, `a frozen variable [${v.shape}] changed by ${d}`);
    }
    opt.dispose();
    tf.dispose([x, g]);
    b.dispose();
  });

  test(`${c.name}: numTrainableParams = closed form = variable sizes = params()`, () => {
    const b = build(c);
    const [out, inF] = c.shape;
    const sizes = b.layer.trainableVariables().reduce((n, v) => n + v.size, 0);
    const named = Object.values(b.layer.params()).reduce((n, v) => n + v.size, 0);
    assert.is(b.layer.numTrainableParams(), sizes);
    assert.is(numAdapterParams(c.cfg, { out, in: inF, bias: c.bias }), sizes);
    assert.is(named, sizes);
    b.dispose();
  });

  test(`${c.name}: a safe merge that would give NaN throws and leaves the base weight unchanged`, () => {
    const b = build(c);
    const v = b.layer.trainableVariables()[0];
    tf.tidy(() => v.assign(tf.fill(v.shape, NaN)));
    const before = Array.from(b.base.weight.dataSync());
    assert.throws(() => b.layer.merge({ safe: true }), /up_proj: NaNs or infinities detected/);
    assert.not.ok(b.layer.merged, 'still unmerged');
    const after = Array.from(b.base.weight.dataSync());
    assert.ok(after.every((a, i) => Object.is(a, before[i])), 'base weight untouched');
    b.dispose();
  });

  test(`${c.name}: the same seed gives the same init, and the layer leaks no tensors`, async () => {
    await assertNoLeak(c.name, () => {
      const b1 = build(c, 4);
      const b2 = build(c, 4);
      const p1 = b1.layer.params();
      const p2 = b2.layer.params();
      for (const k of Object.keys(p1)) assert.is(tensorMaxDiff(p1[k], p2[k]), 0, `${k} differs between equal seeds`);
      assert.is(tensorMaxDiff(b1.base.weight, b2.base.weight), 0, 'base weight differs between equal seeds');
      const { x, g } = input(c);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(b1.layer.forward(x), g)) as tf.Scalar, b1.layer.trainableVariables());
      b1.layer.merge({ safe: true });
      tf.dispose([b1.layer.deltaWeight(), b1.layer.mergedWeight(), b1.layer.forward(x)]);
      b1.layer.unmerge();
      const init = b1.layer.initialParams?.();
      tf.dispose([value, x, g, ...Object.values(grads), ...(init ? Object.values(init) : [])]);
      b1.dispose();
      b2.dispose();
    });
  });
}

test.run();
