import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAILS, HOLDS, OVERLAP, TOO_FEW, compareStats, evaluateClaims } from '../../lib/report/claims';
import { runRow } from '../../lib/report/rows';
import { summarize } from '../../lib/report/stats';
import { summarizeRuns } from '../../lib/report/summary';
import { fakeMainTable, fakeRun } from './fake-runs';

test('compareStats: separated CIs hold or reverse, overlapping ones are inconclusive', () => {
  const hi = summarize([10, 10.2, 9.9]);
  const lo = summarize([5, 5.1, 4.8]);
  const wide = summarize([4, 9, 12]);
  assert.is(compareStats(hi, lo, 'higher'), 'holds');
  assert.is(compareStats(lo, hi, 'higher'), 'reversed');
  assert.is(compareStats(lo, hi, 'lower'), 'holds');
  assert.is(compareStats(hi, wide, 'higher'), 'overlap');
  assert.is(compareStats(hi, summarize([5]), 'higher'), 'too-few');
  // A margin of 6 points: 10 - 5 is not more than 6, and the CIs say so for sure.
  assert.is(compareStats(hi, lo, 'higher', { margin: 6 }), 'reversed');
  assert.is(compareStats(hi, lo, 'higher', { margin: 4 }), 'holds');
  // "Well above" (x2): 10 vs 4.5 holds; 10 vs 6 is less than twice for sure.
  assert.is(compareStats(hi, summarize([4.5, 4.55, 4.45]), 'higher', { factor: 2 }), 'holds');
  assert.is(compareStats(hi, summarize([6, 6.1, 5.9]), 'higher', { factor: 2 }), 'reversed');
});

test('claims on a clear-cut experiment: orderings hold, cost claims hold, verdict strings exact', () => {
  const runs = fakeMainTable();
  const summary = summarizeRuns(runs.map(runRow));
  const claims = evaluateClaims(summary, runs);
  const v = Object.fromEntries(claims.map((c) => [c.id, c.verdict]));
  assert.is(v['accuracy'], HOLDS, 'bone 0.5 > pissa 0.4 > lora 0.3 with noise 0.01');
  assert.is(v['accuracy-margin'], HOLDS, '10 points > 2');
  assert.is(v['accuracy-loss'], HOLDS);
  assert.is(v['bat-memory'], HOLDS);
  assert.is(v['bat-time'], HOLDS);
  assert.is(v['bat-accuracy'], OVERLAP, 'same accuracy: within noise');
  assert.is(v['convergence-early'], HOLDS);
  assert.is(v['convergence-final'], HOLDS);
  assert.is(v['efficiency-time'], HOLDS);
  assert.is(v['grad-norm'], HOLDS, '20 >= 8 >> 2');
  assert.is(v['convergence-time'], HOLDS, 'bone reaches the common target sooner');
  assert.not.ok('sensitivity' in v, 'one lr: sensitivity not measurable, not listed');
  assert.not.ok('block-size' in v);
  const acc = claims.find((c) => c.id === 'accuracy')!;
  assert.match(acc.kit, /^accuracy \(%\): Bone r=8 (49|50)\.\d ± \d\.\d, PiSSA r=4 (39|40)\.\d ± \d\.\d, LoRA r=4 (29|30|31)\.\d ± \d\.\d$/);
  assert.match(acc.paper, /48\.16 > 43\.89 > 42\.93 > 40\.75/);
});

test('claims: "beats each" compares Bone with each other method alone; an ordering also compares the others', () => {
  // Bone clearly best; PiSSA and LoRA identical (same curves and noise), so only the ordering's PiSSA-vs-LoRA step is open.
  const runs = [0, 1, 2].flatMap((seed) => [
    fakeRun({ adapter: { kind: 'bone', r: 8 }, seed, finalLoss: 1.0, accuracy: 0.5, stepMs: 40, peakMb: 300, gradNorm: 20 }),
    fakeRun({ adapter: { kind: 'pissa', r: 4, alpha: 4, rslora: false, niter: null }, seed, finalLoss: 1.6, accuracy: 0.3, stepMs: 40, peakMb: 300, gradNorm: 8 }),
    fakeRun({ adapter: { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false }, seed, finalLoss: 1.6, accuracy: 0.3, stepMs: 40, peakMb: 300, gradNorm: 2 }),
  ]);
  const claims = evaluateClaims(summarizeRuns(runs.map(runRow)), runs, ['convergence-final', 'accuracy-loss']);
  const v = Object.fromEntries(claims.map((c) => [c.id, c.verdict]));
  assert.is(v['convergence-final'], HOLDS, 'bone beats pissa and beats lora');
  assert.is(v['accuracy-loss'], OVERLAP, 'bone < pissa holds but pissa < lora is within noise');
  assert.match(claims.find((c) => c.id === 'convergence-final')!.kit, /^final train loss: Bone r=8 .*, PiSSA r=4 .*, LoRA r=4 /);
});

test('claims: reversed data does not hold, one seed is inconclusive, listed ids without data say so', () => {
  const runs = [0, 1, 2].flatMap((seed) => [
    fakeRun({ adapter: { kind: 'bone', r: 8 }, seed, finalLoss: 1.6, accuracy: 0.2, stepMs: 60, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false }, seed, finalLoss: 1.0, accuracy: 0.5, stepMs: 40, peakMb: 300, gradNorm: 1 }),
  ]);
  const summary = summarizeRuns(runs.map(runRow));
  const v = Object.fromEntries(evaluateClaims(summary, runs, ['accuracy', 'efficiency-time', 'block-size']).map((c) => [c.id, c.verdict]));
  assert.is(v['accuracy'], FAILS);
  assert.is(v['efficiency-time'], FAILS);
  assert.is(v['block-size'], 'not measured');
  const single = runs.filter((r) => r.run_info.config.seed === 0);
  const v1 = evaluateClaims(summarizeRuns(single.map(runRow)), single, ['accuracy']);
  assert.is(v1[0].verdict, TOO_FEW);
  assert.throws(() => evaluateClaims(summary, runs, ['nope']), /unknown claim id\(s\) nope/);
});

test('convergence claims compare Bone with each baseline, not the baselines with each other', () => {
  const lora = { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false } as const;
  const pissa = { kind: 'pissa', r: 4, alpha: 4, rslora: false, niter: null } as const;
  // LoRA ends below PiSSA here; the claim (Bone below both) still holds.
  const runs = [0, 1, 2].flatMap((seed) => [
    fakeRun({ adapter: { kind: 'bone', r: 8 }, seed, finalLoss: 1.0, accuracy: 0.5, stepMs: 40, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: pissa, seed, finalLoss: 1.6, accuracy: 0.3, stepMs: 40, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: lora, seed, finalLoss: 1.3, accuracy: 0.3, stepMs: 40, peakMb: 300, gradNorm: 1 }),
  ]);
  const v = Object.fromEntries(evaluateClaims(summarizeRuns(runs.map(runRow)), runs, ['convergence-final', 'accuracy-loss']).map((c) => [c.id, c.verdict]));
  assert.is(v['convergence-final'], HOLDS);
  assert.is(v['accuracy-loss'], FAILS, 'the ordering claim also needs PiSSA < LoRA');
});

test('sensitivity and block size read the lr and r axes', () => {
  const lora = { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false } as const;
  const runs = [0, 1, 2].flatMap((seed) => [
    fakeRun({ adapter: { kind: 'bone', r: 8 }, lr: 1e-3, seed, finalLoss: 1.0, accuracy: 0.5, stepMs: 40, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: lora, lr: 1e-3, seed, finalLoss: 1.4, accuracy: 0.3, stepMs: 40, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: { kind: 'bone', r: 8 }, lr: 1e-2, seed, finalLoss: 1.0, accuracy: 0.45, stepMs: 40, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: lora, lr: 1e-2, seed, finalLoss: 1.0, accuracy: 0.46, stepMs: 40, peakMb: 300, gradNorm: 1 }),
    fakeRun({ adapter: { kind: 'bone', r: 32 }, lr: 1e-3, seed, finalLoss: 0.8, accuracy: 0.6, stepMs: 60, peakMb: 300, gradNorm: 1, params: 16384 }),
  ]);
  const summary = summarizeRuns(runs.map(runRow));
  const c = Object.fromEntries(evaluateClaims(summary, runs, ['sensitivity', 'block-size']).map((x) => [x.id, x]));
  assert.is(c['sensitivity'].verdict, OVERLAP, 'at the highest lr the advantage is gone (within noise)');
  assert.match(c['sensitivity'].kit, /lr 1e-3: Bone (49|50)\.\d ± .* vs LoRA (29|30)\.\d ± \d\.\d; lr 1e-2: /);
  assert.is(c['block-size'].verdict, HOLDS, 'r=32 beats r=8');
  assert.match(c['block-size'].kit, /r=8: .*r=32: .*16\.4k params/);
});

test.run();
