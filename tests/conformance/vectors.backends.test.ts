/** Every shared PEFT conformance vector passes (runs on wasm and cpu). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { runConformance } from '../../lib/conformance/run';
import { assertNoLeak, setupBackend, SHARED } from '../util';

const DIR = path.join(SHARED, 'conformance', 'vectors');

test.before(async () => {
  await setupBackend();
});

test('all shared conformance vectors pass, without leaking tensors', async () => {
  const results = await assertNoLeak('conformance run', () => runConformance(DIR));
  assert.ok(results.length >= 18, `expected at least 18 vectors, found ${results.length}`);
  const failed = results.filter((r) => r.status !== 'pass');
  assert.equal(failed.map((r) => `${r.id}: ${r.detail}`), []);
  for (const r of results) assert.ok(r.worst !== null && r.worst <= 1e-4, `${r.id}: worst ${r.worst}`);
});

test.run();
