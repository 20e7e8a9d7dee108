import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../lib/cli/datasets';
import { downloadFile, sha256File } from '../../datasets/download';
import { REGISTRY, registryEntry } from '../../datasets/registry';
import { SHARED } from '../util';

const BODY = Buffer.from('{"question": "q", "answer": "#### 1"}\n'.repeat(2000));
const SHA = crypto.createHash('sha256').update(BODY).digest('hex');
const hits: string[] = [];
let base = '';
let server: http.Server;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-download-'));

test.before(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/file') {
      res.writeHead(200, { 'content-length': BODY.length });
      res.end(BODY);
    } else if (req.url === '/chunked') {
      res.writeHead(200);
      res.write(BODY.subarray(0, 1000));
      res.end(BODY.subarray(1000));
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: `${base}/file` });
      res.end();
    } else if (req.url === '/relative') {
      res.writeHead(301, { location: '/redirect' });
      res.end();
    } else if (req.url === '/loop') {
      res.writeHead(307, { location: '/loop' });
      res.end();
    } else {
      res.writeHead(404, 'Not Found');
      res.end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.includes('.part-'));

test('downloads, verifies sha256 and reports progress', async () => {
  const dest = path.join(tmp, 'ok', 'a.jsonl');
  const seen: number[] = [];
  const totals = new Set<number | null>();
  const res = await downloadFile({
    url: `${base}/file`,
    dest,
    sha256: SHA,
    onProgress: (n, total) => {
      seen.push(n);
      totals.add(total);
    },
  });
  assert.equal([...totals], [BODY.length], 'Content-Length passed as the total');
  assert.ok(res.verified);
  assert.is(res.bytes, BODY.length);
  assert.ok(fs.readFileSync(dest).equals(BODY));
  assert.is(seen[seen.length - 1], BODY.length);
  const unknown = await downloadFile({ url: `${base}/chunked`, dest: path.join(tmp, 'ok', 'b.jsonl'), sha256: null });
  assert.not.ok(unknown.verified);
  assert.is(unknown.sha256, SHA);
  assert.equal(leftovers(path.join(tmp, 'ok')), []);
});

test('a sha256 mismatch is an error and leaves no file', async () => {
  const dir = path.join(tmp, 'bad');
  const dest = path.join(dir, 'a.jsonl');
  const wrong = '0'.repeat(64);
  try {
    await downloadFile({ url: `${base}/file`, dest, sha256: wrong });
    assert.unreachable('mismatch accepted');
  } catch (e) {
    assert.match((e as Error).message, `sha256 mismatch for a.jsonl: expected ${wrong}, got ${SHA}`);
  }
  assert.not.ok(fs.existsSync(dest));
  assert.equal(leftovers(dir), []);
});

test('HTTP errors, redirects and redirect loops', async () => {
  const dest = path.join(tmp, 'r', 'a.jsonl');
  try {
    await downloadFile({ url: `${base}/missing`, dest, sha256: null });
    assert.unreachable('404 accepted');
  } catch (e) {
    assert.match((e as Error).message, /HTTP 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/missing/);
  }
  assert.not.ok(fs.existsSync(dest));
  const res = await downloadFile({ url: `${base}/relative`, dest, sha256: SHA });
  assert.is(res.redirects, 2);
  assert.is(res.finalUrl, `${base}/file`);
  assert.ok(fs.readFileSync(dest).equals(BODY));
  try {
    await downloadFile({ url: `${base}/loop`, dest: path.join(tmp, 'r', 'loop'), sha256: null, maxRedirects: 3 });
    assert.unreachable('loop accepted');
  } catch (e) {
    assert.match((e as Error).message, /more than 3 redirects/);
  }
  try {
    await downloadFile({ url: 'ftp://example.org/x', dest, sha256: null });
    assert.unreachable('ftp accepted');
  } catch (e) {
    assert.match((e as Error).message, /unsupported protocol 'ftp:'/);
  }
});

test('CLI: fetch with --url/--sha256, skip a verified copy, refuse a mismatch, unknown names', async () => {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    const out = path.join(tmp, 'cli');
    assert.is(await run(['fetch', 'gsm8k-test', '--out', out, '--url', `${base}/redirect`, '--sha256', SHA, '--quiet']), 0);
    assert.ok(fs.readFileSync(path.join(out, 'test.jsonl')).equals(BODY));
    assert.ok(lines.some((l) => l.includes(`sha256 ${SHA} verified`)));
    const before = hits.length;
    assert.is(await run(['fetch', 'gsm8k-test', '--out', out, '--url', `${base}/file`, '--sha256', SHA, '--quiet']), 0);
    assert.is(hits.length, before, 'a verified copy is not downloaded again');
    try {
      await run(['fetch', 'gsm8k-test', '--out', path.join(tmp, 'cli2'), '--url', `${base}/file`, '--quiet']);
      assert.unreachable('the registry hash of the real GSM8K test file cannot match the test body');
    } catch (e) {
      assert.match((e as Error).message, `expected ${registryEntry('gsm8k-test').sha256}`);
    }
    assert.not.ok(fs.existsSync(path.join(tmp, 'cli2', 'test.jsonl')));
    assert.is(await run(['fetch', 'aqua-train', '--out', path.join(tmp, 'cli3'), '--url', `${base}/file`, '--quiet']), 0);
    assert.ok(lines.some((l) => l.includes(`sha256 ${SHA} NOT verified`)));
    assert.throws(() => registryEntry('nope'), /dataset 'nope' is not in the registry \(known: gsm8k-train, /);
    const err = console.error;
    console.error = () => undefined;
    try {
      assert.is(await run(['fetch', 'gsm8k-test']), 2, 'missing --out is a usage error');
    } finally {
      console.error = err;
    }
    lines.length = 0;
    assert.is(await run(['list']), 0);
    assert.is(lines.length, REGISTRY.length + 1);
  } finally {
    console.log = log;
  }
});

/** Registry entries whose exact upstream file is kept in the shared datasets folder. */
const SHARED_COPIES: Record<string, string> = {
  'gsm8k-train': 'gsm8k/train.jsonl', 'gsm8k-test': 'gsm8k/test.jsonl', 'math-test': 'math/test.jsonl',
  math500: 'math/math500_test.jsonl', svamp: 'svamp/SVAMP.json', 'aqua-test': 'aqua/test.json', 'aqua-dev': 'aqua/dev.json',
  'llm-adapters-math': 'llm-adapters-math/math_data.json', humaneval: 'humaneval/HumanEval.jsonl.gz',
  'mt-bench': 'mt-bench/question.jsonl', tinyshakespeare: 'tinyshakespeare/input.txt',
};

test('registry: unique names, pinned URLs, and every recorded hash and size match the byte-identical copy', () => {
  assert.is(new Set(REGISTRY.map((r) => r.name)).size, REGISTRY.length);
  for (const r of REGISTRY) {
    assert.ok(r.sha256 === null || /^[0-9a-f]{64}$/.test(r.sha256), `${r.name}: sha256 format`);
    assert.ok(/\/[0-9a-f]{40}\//.test(r.url), `${r.name}: URL pinned to a commit`);
    assert.ok(r.url.endsWith(`/${r.file}`) || r.name === 'math500', `${r.name}: file name matches the URL`);
    if (r.sha256 !== null) assert.ok(SHARED_COPIES[r.name], `${r.name}: a recorded hash must come from a checked copy`);
  }
  for (const [name, rel] of Object.entries(SHARED_COPIES)) {
    const file = path.join(SHARED, 'datasets', rel);
    const e = registryEntry(name);
    assert.is(sha256File(file), e.sha256, `${name}: sha256`);
    assert.is(fs.statSync(file).size, e.bytes, `${name}: bytes`);
  }
});

test.run();
