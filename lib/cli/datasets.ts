/**
 * `bonelab datasets`: list the registry, download a dataset (verified by sha256), or print samples and length
 * statistics of the kit's generated data.
 *   datasets list
 *   datasets fetch <name> --out <dir> [--url <override>] [--sha256 <hex>] [--force]
 *   datasets sample wordproblems|corpus [--split train|eval] [--n 5] [--seed 0] [--template qa|alpaca] [--chars 600]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatPrompt, formatTarget } from '../data/prompt';
import { Progress } from '../util/progress';
import { downloadFile, sha256File } from '../../datasets/download';
import { REGISTRY, registryEntry } from '../../datasets/registry';
import { generateCorpus } from '../../datasets/corpus';
import { generateWordProblems } from '../../datasets/wordproblems';
import { intOption, parseCli } from './args';

const USAGE = `usage:
  bonelab datasets list
  bonelab datasets fetch <name> --out <dir> [--url <override>] [--sha256 <hex>] [--force]
  bonelab datasets sample wordproblems [--split train|eval] [--n 5] [--seed 0] [--template qa|alpaca]
  bonelab datasets sample corpus [--seed 0] [--chars 600]`;

function list(): number {
  const rows = REGISTRY.map((r) => [r.name, r.file, r.bytes === null ? '?' : String(r.bytes), r.sha256 ? 'sha256' : 'no hash', r.license, r.description]);
  const head = ['name', 'file', 'bytes', 'verify', 'license', 'description'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ');
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
  return 0;
}

/** Byte counts for humans: 1.2 MB. */
function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

async function fetch(argv: string[]): Promise<number> {
  const parsed = parseCli(
    'datasets fetch',
    argv,
    { out: { type: 'string' }, url: { type: 'string' }, sha256: { type: 'string' }, force: { type: 'boolean' }, quiet: { type: 'boolean' } },
    USAGE,
    { positionals: true },
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.out) {
    console.error(`datasets fetch: give one dataset name and --out <dir>\n\n${USAGE}`);
    return 2;
  }
  const entry = registryEntry(positionals[0]);
  const sha = values.sha256 !== undefined ? values.sha256.toLowerCase() : entry.sha256;
  const dest = path.join(values.out, entry.file);
  if (fs.existsSync(dest) && !values.force) {
    const have = sha256File(dest);
    if (sha === null) {
      console.log(`${dest} exists (sha256 ${have}, not verified: no known hash for '${entry.name}'); use --force to download again`);
      return 0;
    }
    if (have === sha) {
      console.log(`${dest} exists, sha256 verified`);
      return 0;
    }
    console.log(`${dest} exists but its sha256 differs from the registry; downloading again`);
  }
  const url = values.url ?? entry.url;
  console.log(`fetching ${entry.name} from ${url}`);
  let bar: Progress | null = null;
  let lastLine = 0;
  const res = await downloadFile({
    url,
    dest,
    sha256: sha,
    onProgress: (got, total) => {
      if (values.quiet) return;
      if (total !== null) {
        bar ??= new Progress({ label: `${entry.name} bytes`, total });
        bar.update(got);
      } else if (Date.now() - lastLine > 2000) {
        lastLine = Date.now();
        process.stderr.write(`${entry.name}: ${human(got)}\n`);
      }
    },
  });
  (bar as Progress | null)?.end();
  const via = res.redirects ? ` (after ${res.redirects} redirect${res.redirects > 1 ? 's' : ''})` : '';
  console.log(`wrote ${res.file}: ${human(res.bytes)}${via}`);
  if (res.verified) console.log(`sha256 ${res.sha256} verified`);
  else console.log(`sha256 ${res.sha256} NOT verified: the registry has no known hash for '${entry.name}'; check it before relying on the file`);
  return 0;
}

function stats(xs: number[]): string {
  const s = xs.slice().sort((a, b) => a - b);
  const q = (f: number): number => s[Math.floor(f * (s.length - 1))];
  return `mean ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(1)}, median ${q(0.5)}, p95 ${q(0.95)}, max ${s[s.length - 1]}`;
}

function sample(argv: string[]): number {
  const parsed = parseCli(
    'datasets sample',
    argv,
    {
      split: { type: 'string', default: 'train' },
      n: { type: 'string', default: '5' },
      seed: { type: 'string', default: '0' },
      template: { type: 'string', default: 'qa' },
      chars: { type: 'string', default: '600' },
    },
    USAGE,
    { positionals: true },
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const seed = intOption('datasets sample', 'seed', values.seed);
  if (positionals[0] === 'corpus') {
    const chars = intOption('datasets sample', 'chars', values.chars, 1);
    console.log(generateCorpus({ seed, chars }));
    return 0;
  }
  if (positionals[0] !== 'wordproblems') {
    console.error(`datasets sample: expected 'wordproblems' or 'corpus', got '${positionals[0] ?? ''}'\n\n${USAGE}`);
    return 2;
  }
  const n = intOption('datasets sample', 'n', values.n, 1);
  const split = values.split as 'train' | 'eval';
  for (const p of generateWordProblems({ seed, n, split })) {
    console.log(`[${p.id} ${p.meta.templates} ${p.meta.novelty}]\n${formatPrompt(p.question, values.template)}${formatTarget(p.solution, values.template)}`);
  }
  const many = generateWordProblems({ seed, n: 2000, split });
  const total = many.map((p) => formatPrompt(p.question, values.template).length + formatTarget(p.solution, values.template).length);
  console.log(`lengths over 2000 ${split} problems (characters, EOS not counted):`);
  console.log(`  question  ${stats(many.map((p) => p.question.length))}`);
  console.log(`  solution  ${stats(many.map((p) => p.solution.length))}`);
  console.log(`  ${values.template} prompt + target  ${stats(total)}`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return list();
  if (sub === 'fetch') return fetch(rest);
  if (sub === 'sample') return sample(rest);
  console.error(sub ? `datasets: unknown subcommand '${sub}'\n\n${USAGE}` : USAGE);
  return 2;
}
