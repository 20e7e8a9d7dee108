/**
 * `bonelab bench [--steps N] [--methods bone,bat,lora,...] [--bone-r R] [--batch-size B] [--arch llama] [--preset tiny]
 *  [--layer-only | --no-layer]`: one JSON line per method (fine-tuning the kit base at matched budget, each method in
 * its own process), a line comparing merged and base forward time, then the single-layer timings next to PyTorch's.
 * `bonelab bench --gradnorm [--ranks 4,8,16,32]`: the initial gradient norm per method and rank instead.
 * Timings are reported, never judged.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { initBackend } from '../backend';
import { benchLayer, NAIVE_TFJS_QUOTED_MS, PYTORCH_ONE_THREAD_MS } from '../bench/layer';
import { gradNormSweep } from '../bench/gradnorm';
import { BENCH_METHODS, benchBatches, benchInterleaved, type BenchMethod, type MethodBenchOptions, type MethodBenchRow } from '../bench/methods';
import type { BaseArch, BasePresetName } from '../train/base-presets';
import { ensureBaseModel } from '../train/pretrain';
import { KIT_BASE_SEED } from '../train/run';
import { intOption, parseCli } from './args';

const USAGE =
  'usage: bonelab bench [--steps N] [--methods bone,bat,lora,pissa,dora,full] [--bone-r R] [--batch-size B] [--arch llama|rwkv6] [--preset tiny|small] [--layer-only | --no-layer] [--gradnorm [--ranks 4,8,16,32]] [--backend wasm|cpu]';
const DEFAULT_METHODS: BenchMethod[] = ['bone', 'bat', 'lora', 'pissa', 'dora', 'full'];
const WORKER = path.join(__dirname, '..', 'bench', 'method-worker.ts');

function runWorker(opts: MethodBenchOptions, backend: string): MethodBenchRow {
  const res = spawnSync(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(opts)], {
    env: { ...process.env, BONELAB_BACKEND: backend },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = (res.stdout ?? '').trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !line.startsWith('{')) throw new Error(`bench ${opts.method}: worker failed (${(res.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || `exit ${res.status}`})`);
  return JSON.parse(line) as MethodBenchRow;
}

const round = (x: number, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

export async function run(argv: string[]): Promise<number> {
  const args = parseCli('bench', argv, {
    steps: { type: 'string' },
    methods: { type: 'string' },
    'bone-r': { type: 'string' },
    'batch-size': { type: 'string' },
    arch: { type: 'string', default: 'llama' },
    preset: { type: 'string', default: 'tiny' },
    'layer-only': { type: 'boolean', default: false },
    'no-layer': { type: 'boolean', default: false },
    gradnorm: { type: 'boolean', default: false },
    ranks: { type: 'string', default: '4,8,16,32' },
    backend: { type: 'string' },
  }, USAGE);
  if (typeof args === 'number') return args;
  const { values } = args;
  if (values['layer-only'] && values['no-layer']) {
    console.error(`bench: --layer-only and --no-layer together leave nothing to run\n${USAGE}`);
    return 2;
  }
  const backend = await initBackend(values.backend);
  const methods = (values.methods?.split(',').map((m) => m.trim()) ?? DEFAULT_METHODS) as BenchMethod[];
  const bad = methods.filter((m) => !(BENCH_METHODS as readonly string[]).includes(m));
  if (bad.length) throw new Error(`bench: unknown method(s) ${bad.join(', ')} (known: ${BENCH_METHODS.join(', ')})`);
  const steps = intOption('bench', 'steps', values.steps, 1) ?? 20;
  const batchSize = intOption('bench', 'batch-size', values['batch-size'], 1) ?? 8;
  const base = () => ensureBaseModel({ arch: values.arch as BaseArch, preset: values.preset as BasePresetName, seed: KIT_BASE_SEED, progress: true });
  if (values.gradnorm) {
    const ranks = values.ranks.split(',').map((x) => intOption('bench', 'ranks', x.trim(), 1));
    const dir = await base();
    const gm = values.methods ? methods : [...BENCH_METHODS];
    for (const row of gradNormSweep(dir, gm, ranks, benchBatches(dir, batchSize, 2))) {
      console.log(JSON.stringify({ method: row.method, r: row.r, trainable_params: row.trainable_params, grad_norm: round(row.grad_norm, 4), loss: round(row.loss, 4) }));
    }
    return 0;
  }
  if (!values['layer-only']) {
    const baseDir = await base();
    const common = { baseDir, boneR: intOption('bench', 'bone-r', values['bone-r'], 1) ?? 8, targets: 'all-linear' as const, steps, batchSize };
    // Step times: all methods side by side in this process (one step of each per round), so load from other processes
    // falls on every method alike. Memory, leaks and forward times: each method alone in its own process.
    const timing = new Map(benchInterleaved(common, methods).map((t) => [t.method, t]));
    const rows: MethodBenchRow[] = [];
    for (const method of methods) {
      const row = runWorker({ ...common, method, steps: Math.min(steps, 10) }, backend);
      rows.push(row);
      const t = timing.get(method)!;
      console.log(
        JSON.stringify({
          method: row.method,
          r: row.r,
          trainable_params: row.trainable_params,
          step_ms: round(t.step_ms),
          tokens_per_s: round(t.tokens_per_s, 0),
          peak_rss_mb: round(row.peak_rss_mb, 0),
          leaked_tensors: row.leaked_tensors,
          steps,
          step_ms_alone: round(row.step_ms),
        }),
      );
    }
    console.log(
      JSON.stringify({
        forward_ms: Object.fromEntries(rows.map((r) => [r.method, { adapter: round(r.forward_ms.adapter), merged: round(r.forward_ms.merged), base: round(r.forward_ms.base) }])),
      }),
    );
  }
  if (!values['no-layer']) {
    for (const r of benchLayer()) {
      console.log(
        JSON.stringify({
          layer: `${r.method} r=${r.r}`,
          impl: r.impl,
          trainable_params: r.trainable_params,
          x: r.x,
          w: r.w,
          needs_dx: r.needs_dx,
          fwd_bwd_ms: round(r.median_ms),
          min_ms: round(r.min_ms),
          pytorch_ms: PYTORCH_ONE_THREAD_MS,
          ...(r.impl === 'naive' ? { quoted_naive_ms: NAIVE_TFJS_QUOTED_MS } : {}),
        }),
      );
    }
  }
  return 0;
}
