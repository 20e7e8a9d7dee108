/** Architecture dispatch: load or create a CausalLM from an HF-style folder or config, whatever the family. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listSome, readHfConfig, readHfWeights } from './hf-checkpoint';
import { isLlamaFamily } from './llama-config';
import { createLlama, llamaFromTensors } from './llama';
import { isRwkv6Checkpoint, loadRwkv6 } from './rwkv6-checkpoint';
import type { CausalLM } from './types';

const SUPPORTED = 'llama, mistral, qwen2, rwkv6';

/**
 * Load a checkpoint folder (config.json + model.safetensors or a sharded index). The family comes from config.json's
 * model_type; an RWKV6 folder without a config is recognised by its tensor names. Unexpected tensors are ignored with
 * one warning on stderr, as transformers does.
 */
export function loadModel(dir: string): CausalLM {
  if (!fs.existsSync(dir)) throw new Error(`model folder not found: ${dir}`);
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    if (isRwkv6Checkpoint(dir)) return loadRwkv6(dir);
    throw new Error(`${dir}: no config.json, so the architecture is unknown (supported: ${SUPPORTED})`);
  }
  const raw = readHfConfig(dir);
  if (raw.model_type === 'rwkv6') return loadRwkv6(dir);
  if (!isLlamaFamily(raw))
    throw new Error(`${dir}/config.json: model_type ${JSON.stringify(raw.model_type)} is not supported (supported: ${SUPPORTED})`);
  const { model, unused } = llamaFromTensors(raw, readHfWeights(dir), dir);
  if (unused.length)
    console.warn(`${dir}: ${unused.length} tensor(s) in the checkpoint are not used by the model: ${listSome(unused)}`);
  return model;
}

/** A randomly initialised LLaMA-family model from a (partial) HF config; RWKV6 has its own constructor. */
export function createModel(config: Record<string, unknown>, init: { seed?: number } = {}): CausalLM {
  if (config.model_type !== undefined && !isLlamaFamily(config))
    throw new Error(`createModel: model_type ${JSON.stringify(config.model_type)} is not a LLaMA-family type (llama, mistral, qwen2)`);
  return createLlama(config, init);
}
