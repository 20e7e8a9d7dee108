/**
 * Plausible run results without training, for report and grid tests: a loss curve decaying to a chosen level with
 * seed noise, and chosen accuracy, step time, memory and initial gradient norm.
 */
import type { AdapterConfig } from '../../lib/adapters/types';
import type { ExperimentConfig, RunResult, RunStatus } from '../../lib/experiments/types';
import { Rng } from '../../lib/util/random';

export interface FakeRun {
  experiment?: string;
  label?: string;
  adapter: AdapterConfig;
  lr?: number;
  seed: number;
  steps?: number;
  status?: RunStatus;
  /** Level the training loss decays to, and how fast (larger = faster start). */
  finalLoss: number;
  speed?: number;
  accuracy: number;
  evalLoss?: number;
  stepMs: number;
  peakMb: number;
  gradNorm: number;
  params?: number;
  /** Std of the per-seed jitter added to the scalar metrics. */
  noise?: number;
}

export function fakeConfig(f: Pick<FakeRun, 'experiment' | 'adapter' | 'lr' | 'seed' | 'steps'>, variant: string): ExperimentConfig {
  return {
    name: f.experiment ?? 'fake',
    variant,
    model: { arch: 'llama', source: 'kit-base', preset: 'tiny' },
    data: { task: 'wordproblems', path: null, trainExamples: 100, evalExamples: 20, maxLength: 32 },
    adapter: f.adapter,
    targets: 'all-linear',
    optimizer: { lr: f.lr ?? 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, loraPlusRatio: null, clipNorm: 1 },
    schedule: { kind: 'cosine', warmupSteps: 0 },
    steps: f.steps ?? 40,
    batchSize: 4,
    gradAccum: 1,
    eval: { every: 10, generateExamples: 10, maxNewTokens: 8 },
    seed: f.seed,
  };
}

export function fakeVariant(f: FakeRun): string {
  const r = (f.adapter as { r?: number }).r;
  const lr = (f.lr ?? 1e-3).toExponential().replace('e+', 'e');
  return `${f.label ?? f.adapter.kind}${r !== undefined ? `-r${r}` : ''}-lr${lr}-s${f.seed}`;
}

export function fakeRun(f: FakeRun): RunResult {
  const variant = fakeVariant(f);
  const rng = new Rng(f.seed * 7919 + variant.length * 31 + Math.round(f.finalLoss * 1000));
  const noise = f.noise ?? 0.01;
  const steps = f.steps ?? 40;
  const speed = f.speed ?? 0.15;
  const status = f.status ?? 'ok';
  const jitter = () => noise * rng.normal();
  const metrics = Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    const train_loss = f.finalLoss + 3 * Math.exp(-speed * step) + 0.02 * rng.normal();
    return { step, train_loss, grad_norm: 1, lr: f.lr ?? 1e-3, tokens_per_s: 1000, wall_s: (step * f.stepMs) / 1000, ...(step % 10 === 0 ? { eval_loss: f.finalLoss + 0.1 + 3 * Math.exp(-speed * step) } : {}) };
  });
  const ok = status === 'ok';
  return {
    run_info: { created_at: '2025-01-01T00:00:00.000Z', experiment: f.experiment ?? 'fake', variant, config: fakeConfig(f, variant), git_sha: null, error_msg: ok ? null : 'simulated failure' },
    train_info: {
      status,
      diverged_at_step: status === 'diverged' ? 5 : null,
      num_trainable_params: f.params ?? 1000,
      wall_s: (steps * f.stepMs) / 1000,
      step_ms_median: f.stepMs * (1 + jitter()),
      peak_rss_mb: f.peakMb * (1 + jitter()),
      initial_grad_norm: f.gradNorm * (1 + jitter()),
      metrics: ok ? metrics : metrics.slice(0, 5),
      final: ok
        ? { eval_loss: (f.evalLoss ?? f.finalLoss + 0.1) + jitter(), eval_ppl: Math.exp(f.finalLoss), accuracy: Math.min(1, Math.max(0, f.accuracy + jitter())), n_eval: 50, samples: [] }
        : null,
    },
    meta_info: { backend: 'wasm', tfjs_version: '4.22.0', node_version: process.version, platform: 'linux-x64', cpus: 2, packages: {} },
  };
}

/** A main-table-like experiment: Bone clearly best, PiSSA next, LoRA last; Bat like Bone but costlier. */
export function fakeMainTable(seeds = [0, 1, 2], experiment = 'fake'): RunResult[] {
  const out: RunResult[] = [];
  for (const seed of seeds) {
    out.push(fakeRun({ experiment, adapter: { kind: 'bone', r: 8 }, seed, finalLoss: 1.0, speed: 0.3, accuracy: 0.5, stepMs: 40, peakMb: 300, gradNorm: 20, params: 4096 }));
    out.push(fakeRun({ experiment, adapter: { kind: 'bat', r: 8, convention: 'out-block' }, seed, finalLoss: 1.0, speed: 0.3, accuracy: 0.5, stepMs: 70, peakMb: 380, gradNorm: 21, params: 4096 }));
    out.push(fakeRun({ experiment, adapter: { kind: 'pissa', r: 4, alpha: 4, rslora: false, niter: null }, seed, finalLoss: 1.3, speed: 0.2, accuracy: 0.4, stepMs: 45, peakMb: 320, gradNorm: 8, params: 4352 }));
    out.push(fakeRun({ experiment, adapter: { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false }, seed, finalLoss: 1.6, speed: 0.1, accuracy: 0.3, stepMs: 50, peakMb: 330, gradNorm: 2, params: 4352 }));
  }
  return out;
}
