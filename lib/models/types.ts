/**
 * What every model family (LLaMA, RWKV6) exposes to adapters, training, evaluation and export.
 * Module and parameter names are the HF / official checkpoint names, so PEFT adapter files map one-to-one.
 */
import type * as tf from '@tensorflow/tfjs';
import type { AdapterConfig, AdapterLayer, LinearBase } from '../adapters/types';

/** A linear layer inside a model: the frozen base plus, optionally, one adapter. */
export interface Linear extends LinearBase {
  /** The adapter injected on this module, if any. */
  adapter: AdapterLayer | null;
  /** y = x W^T + b (+ adapter) for x [N, in] -> [N, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

/** How adapters are attached to a model (PEFT-style target selection). */
export interface InjectOptions {
  adapter: AdapterConfig;
  /** 'all-linear' (every linear but lm_head / head), a list of module-name suffixes (q_proj, v_proj, att.key, ...), or a RegExp source string prefixed 're:'. */
  targets: 'all-linear' | string[] | string;
  seed: number;
}

export interface CausalLM {
  readonly arch: 'llama' | 'rwkv6';
  /** The model's HF-style config.json contents. */
  readonly config: Record<string, unknown>;
  readonly vocabSize: number;
  /** Logits [B, T, V] for int32 token ids [B, T]. */
  logits(inputIds: tf.Tensor2D): tf.Tensor3D;
  /** Mean causal-LM cross-entropy over positions whose label is not -100 (labels [B, T], already aligned to inputs: HF shifts inside). */
  loss(inputIds: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar;
  /** Every linear layer by HF module name. */
  linears(): Map<string, Linear>;
  /** Every base parameter by HF state-dict name (embed, norms, linears, lm_head). */
  parameters(): Map<string, tf.Variable>;
  /** Variables the optimiser should update: adapter variables, or everything under full fine-tuning. */
  trainableVariables(): tf.Variable[];
  /** Greedy decoding with a KV cache / recurrent state; stops at eos or maxNewTokens. Returns the new tokens only. */
  generate(prompt: number[], maxNewTokens: number, eosTokenId?: number): Promise<number[]>;
  dispose(): void;
}
