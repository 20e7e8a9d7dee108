/**
 * The contract between experiments (configs, grids, reports) and the training engine.
 * An experiment is plain JSON: defaults <- experiment file <- overrides, resolved and validated in lib/experiments/config.ts;
 * runExperiment (lib/train/run.ts) consumes the resolved object and returns a RunResult, which lib/results writes.
 */
import type { AdapterConfig } from '../adapters/types';

export interface ExperimentConfig {
  /** Experiment name, used for the results folder (results/<name>/). */
  name: string;
  /** Short variant label of this run inside the experiment (e.g. `bone-r8-lr2e-3-s0`); made from the grid axes when empty. */
  variant: string;
  model: {
    arch: 'llama' | 'rwkv6';
    /** 'kit-base': the kit's own tiny pretrained base (built and cached on first use); else a path to an HF checkpoint folder. */
    source: string;
    /** Size preset of the kit base (ignored for a checkpoint folder). */
    preset: 'tiny' | 'small';
  };
  data: {
    /** 'wordproblems': the kit's generated MetaMathQA stand-in; 'metamath': MetaMathQA-style JSONL at `path`; 'gsm8k': GSM8K JSONL at `path`. */
    task: 'wordproblems' | 'metamath' | 'gsm8k';
    path: string | null;
    trainExamples: number;
    evalExamples: number;
    maxLength: number;
  };
  adapter: AdapterConfig;
  /** 'all-linear', module-name suffixes (q_proj, v_proj...), or 're:<regex>'. */
  targets: 'all-linear' | string[];
  optimizer: {
    lr: number;
    weightDecay: number;
    beta1: number;
    beta2: number;
    eps: number;
    /** LoRA+: learning-rate ratio for lora_B (null = off). */
    loraPlusRatio: number | null;
    /** Global-norm clip (null = off). */
    clipNorm: number | null;
  };
  schedule: { kind: 'constant' | 'cosine' | 'linear'; warmupSteps: number };
  steps: number;
  batchSize: number;
  gradAccum: number;
  eval: {
    /** Evaluate held-out loss every N steps (0 = only at the end). */
    every: number;
    /** Number of held-out problems decoded greedily for exact-match accuracy at the end. */
    generateExamples: number;
    maxNewTokens: number;
  };
  seed: number;
}

export type RunStatus = 'ok' | 'diverged' | 'failed' | 'cancelled';

export interface StepMetrics {
  step: number;
  train_loss: number;
  grad_norm: number;
  lr: number;
  tokens_per_s: number;
  wall_s: number;
  eval_loss?: number;
}

/** One run, as written to results/<experiment>/<variant>.json (the layout of PEFT's method_comparison results). */
export interface RunResult {
  run_info: {
    created_at: string;
    experiment: string;
    variant: string;
    config: ExperimentConfig;
    git_sha: string | null;
    error_msg: string | null;
  };
  train_info: {
    status: RunStatus;
    /** Step at which the loss became non-finite (diverged runs). */
    diverged_at_step: number | null;
    num_trainable_params: number;
    wall_s: number;
    step_ms_median: number;
    peak_rss_mb: number;
    initial_grad_norm: number;
    metrics: StepMetrics[];
    final: {
      eval_loss: number;
      eval_ppl: number;
      accuracy: number;
      n_eval: number;
      /** Correct / total per problem group (word problems: steps and novelty); absent in results from older versions. */
      accuracy_by_group?: Record<string, { correct: number; n: number }>;
      /** A few decoded examples for inspection. */
      samples: { prompt: string; output: string; gold: string; correct: boolean }[];
    } | null;
  };
  meta_info: {
    backend: string;
    tfjs_version: string;
    node_version: string;
    platform: string;
    cpus: number;
    packages: Record<string, string>;
  };
}
