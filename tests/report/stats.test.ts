import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { incompleteBeta, summarize, tCdf, tQuantile } from '../../lib/report/stats';

test('t quantiles match published two-sided 95% critical values', () => {
  // Standard t-table values t(0.975, df).
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [9, 2.262], [19, 2.093], [29, 2.045], [120, 1.98]];
  for (const [df, want] of table) assert.ok(Math.abs(tQuantile(0.975, df) - want) < 1e-3, `df=${df}: ${tQuantile(0.975, df)} vs ${want}`);
  assert.ok(Math.abs(tQuantile(0.025, 4) + 2.776) < 1e-3, 'lower tail is symmetric');
  assert.ok(Math.abs(tCdf(tQuantile(0.9, 7), 7) - 0.9) < 1e-9, 'quantile inverts the CDF');
});

test('incomplete beta: closed forms I_x(1,1)=x and I_x(a,1)=x^a', () => {
  for (const x of [0.1, 0.5, 0.93]) {
    assert.ok(Math.abs(incompleteBeta(x, 1, 1) - x) < 1e-12);
    assert.ok(Math.abs(incompleteBeta(x, 3, 1) - x ** 3) < 1e-12);
  }
});

test('summarize: mean, sample std and t-based CI; non-finite values dropped', () => {
  const s = summarize([1, 2, 3, NaN]);
  assert.is(s.n, 3);
  assert.is(s.mean, 2);
  assert.is(s.std, 1);
  assert.ok(Math.abs(s.ci95 - 4.302652729749752 / Math.sqrt(3)) < 1e-12);
  assert.ok(Math.abs(s.lo - (2 - s.ci95)) < 1e-15 && Math.abs(s.hi - (2 + s.ci95)) < 1e-15);
  const one = summarize([5]);
  assert.is(one.mean, 5);
  assert.ok(Number.isNaN(one.ci95), 'one seed has no CI');
  assert.is(summarize([]).n, 0);
  assert.throws(() => tQuantile(1.2, 3), /p must be in \(0, 1\), got 1.2/);
  assert.throws(() => tQuantile(0.9, 0), /df must be > 0, got 0/);
});

test.run();
