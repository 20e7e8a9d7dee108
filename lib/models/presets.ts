/**
 * Model shapes without weights: published presets, HF LLaMA-family `config.json` files and RWKV6 config files (the
 * kit's RWKV6 format, lib/models/rwkv6-config.ts: {"model_type": "rwkv6", n_embd, n_layer, dim_ffn, vocab_size,
 * head_size, ...}), the list of linear modules under their checkpoint names, and the total parameter count.
 * Used for parameter counting (`bonelab params`) and by the model families for target selection.
 */
import * as fs from 'node:fs';
import { parseRwkv6Config, rwkv6BlockLinears, rwkv6TensorShapes, type Rwkv6Config } from './rwkv6-config';

export interface LlamaShape {
  arch: 'llama';
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  /** q/k/v/o carry a bias (HF `attention_bias`). */
  attentionBias: boolean;
  /** gate/up/down carry a bias (HF `mlp_bias`). */
  mlpBias: boolean;
}

export interface Rwkv6Shape {
  arch: 'rwkv6';
  config: Rwkv6Config;
}

export type ModelShape = LlamaShape | Rwkv6Shape;

/** One linear module: HF / official checkpoint name and PyTorch weight shape [out, in]. */
export interface LinearInfo {
  name: string;
  out: number;
  in: number;
  /** Has a bias [out]. */
  bias: boolean;
}

/** Published shapes as `config.json` contents (the keys the kit reads, plus the ones that identify the model). */
export const PRESETS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // meta-llama/Llama-2-7b-hf
  'llama2-7b': {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 11008,
    num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, vocab_size: 32000,
    tie_word_embeddings: false, rms_norm_eps: 1e-5, rope_theta: 10000.0, max_position_embeddings: 4096,
    hidden_act: 'silu', attention_bias: false, bos_token_id: 1, eos_token_id: 2,
  },
  // mistralai/Mistral-7B-v0.1
  'mistral-7b': {
    model_type: 'mistral', architectures: ['MistralForCausalLM'], hidden_size: 4096, intermediate_size: 14336,
    num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32000,
    tie_word_embeddings: false, rms_norm_eps: 1e-5, rope_theta: 10000.0, max_position_embeddings: 32768,
    sliding_window: 4096, hidden_act: 'silu', bos_token_id: 1, eos_token_id: 2,
  },
  // meta-llama/Llama-3.2-3B
  'llama-3.2-3b': {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 3072, intermediate_size: 8192,
    num_hidden_layers: 28, num_attention_heads: 24, num_key_value_heads: 8, head_dim: 128, vocab_size: 128256,
    tie_word_embeddings: true, rms_norm_eps: 1e-5, rope_theta: 500000.0, max_position_embeddings: 131072,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    hidden_act: 'silu', attention_bias: false, mlp_bias: false, bos_token_id: 128000, eos_token_id: 128001,
  },
  // RWKV6 "Finch" 7B (RWKV-x060-World-7B): ffn dim int(3.5 * 4096) = 14336
  'rwkv6-7b': {
    model_type: 'rwkv6', n_embd: 4096, n_layer: 32, dim_att: 4096, dim_ffn: 14336, vocab_size: 65536, head_size: 64,
    head_size_divisor: 8, d_mix_lora: 64, d_decay_lora: 128,
  },
};

function posInt(cfg: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (v === undefined) throw new Error(`${where}: missing '${key}' (a positive integer)`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${where}: '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function bool(cfg: Record<string, unknown>, key: string, where: string, fallback: boolean): boolean {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'boolean') throw new Error(`${where}: '${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

const LLAMA_TYPES = new Set(['llama', 'mistral']);

/** Parse `config.json` contents into a shape; `where` names the source in errors. */
export function modelShapeFromConfig(cfg: unknown, where = 'model config'): ModelShape {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${where}: expected a JSON object, got ${JSON.stringify(cfg)}`);
  const c = cfg as Record<string, unknown>;
  const type = c.model_type ?? 'llama';
  if (type === 'rwkv6') return { arch: 'rwkv6', config: parseRwkv6Config(c, where) };
  if (typeof type !== 'string' || !LLAMA_TYPES.has(type))
    throw new Error(`${where}: unsupported model_type ${JSON.stringify(type)} (supported: llama, mistral, rwkv6)`);
  const hiddenSize = posInt(c, 'hidden_size', where);
  const numHeads = posInt(c, 'num_attention_heads', where);
  const numKvHeads = posInt(c, 'num_key_value_heads', where, numHeads);
  if (c.head_dim === undefined && hiddenSize % numHeads !== 0)
    throw new Error(`${where}: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads} (give head_dim)`);
  if (numHeads % numKvHeads !== 0) throw new Error(`${where}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  return {
    arch: 'llama',
    hiddenSize,
    intermediateSize: posInt(c, 'intermediate_size', where),
    numLayers: posInt(c, 'num_hidden_layers', where),
    numHeads,
    numKvHeads,
    // HF writes head_dim: null for models that derive it.
    headDim: c.head_dim === null ? hiddenSize / numHeads : posInt(c, 'head_dim', where, hiddenSize / numHeads),
    vocabSize: posInt(c, 'vocab_size', where),
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', where, false),
    attentionBias: bool(c, 'attention_bias', where, false),
    mlpBias: bool(c, 'mlp_bias', where, false),
  };
}

/** A preset name, or a path to a `config.json` (or to a folder holding one). */
export function resolveModelShape(spec: string): { shape: ModelShape; config: Record<string, unknown>; source: string } {
  if (Object.prototype.hasOwnProperty.call(PRESETS, spec)) {
    const config = { ...PRESETS[spec] };
    return { shape: modelShapeFromConfig(config, `preset '${spec}'`), config, source: `preset ${spec}` };
  }
  let file = spec;
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = `${file.replace(/\/+$/, '')}/config.json`;
  if (!fs.existsSync(file)) throw new Error(`model '${spec}' is neither a preset (${Object.keys(PRESETS).join(', ')}) nor an existing config.json`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return { shape: modelShapeFromConfig(config, file), config, source: file };
}

function asShape(model: ModelShape | Record<string, unknown>): ModelShape {
  const a = (model as { arch?: unknown }).arch;
  return a === 'llama' || a === 'rwkv6' ? (model as ModelShape) : modelShapeFromConfig(model);
}

/**
 * Every linear module in checkpoint order, with HF / official names: LLaMA `model.layers.N.self_attn.q_proj` ...
 * `mlp.down_proj`, then `lm_head`; RWKV6 `blocks.N.att.{receptance,key,value,gate,output}`,
 * `blocks.N.ffn.{key,receptance,value}`, then `head`. The head is listed (it can be targeted by name) but
 * 'all-linear' skips it. Accepts a shape or raw `config.json` contents.
 */
export function listLinears(model: ModelShape | Record<string, unknown>): LinearInfo[] {
  const s = asShape(model);
  const out: LinearInfo[] = [];
  const add = (name: string, o: number, i: number, bias = false) => out.push({ name, out: o, in: i, bias });
  if (s.arch === 'llama') {
    const q = s.numHeads * s.headDim;
    const kv = s.numKvHeads * s.headDim;
    for (let l = 0; l < s.numLayers; l++) {
      const p = `model.layers.${l}`;
      add(`${p}.self_attn.q_proj`, q, s.hiddenSize, s.attentionBias);
      add(`${p}.self_attn.k_proj`, kv, s.hiddenSize, s.attentionBias);
      add(`${p}.self_attn.v_proj`, kv, s.hiddenSize, s.attentionBias);
      add(`${p}.self_attn.o_proj`, s.hiddenSize, q, s.attentionBias);
      add(`${p}.mlp.gate_proj`, s.intermediateSize, s.hiddenSize, s.mlpBias);
      add(`${p}.mlp.up_proj`, s.intermediateSize, s.hiddenSize, s.mlpBias);
      add(`${p}.mlp.down_proj`, s.hiddenSize, s.intermediateSize, s.mlpBias);
    }
    add('lm_head', s.vocabSize, s.hiddenSize);
  } else {
    const block = Object.entries(rwkv6BlockLinears(s.config));
    for (let l = 0; l < s.config.n_layer; l++) for (const [name, [o, i]] of block) add(`blocks.${l}.${name}`, o, i);
    add('head', s.config.vocab_size, s.config.n_embd);
  }
  return out;
}

/** Parameter count by group (embeddings, linears, norms, head, other), and the total. */
export interface ParamBreakdown {
  embeddings: number;
  /** Every linear but the head, with biases. */
  linears: number;
  norms: number;
  /** The output head (0 when tied to the embeddings). */
  head: number;
  /** RWKV6 token-shift, decay and bonus parameters. */
  other: number;
  total: number;
}

/**
 * All parameters of the model, as in its state dict: embeddings, every linear (with biases), norms, and the output
 * head unless tied to the embeddings. LLaMA-2-7B gives 6738415616.
 */
export function countModelParams(model: ModelShape | Record<string, unknown>): ParamBreakdown {
  const s = asShape(model);
  const b: ParamBreakdown = { embeddings: 0, linears: 0, norms: 0, head: 0, other: 0, total: 0 };
  if (s.arch === 'llama') {
    for (const l of listLinears(s)) {
      const n = l.out * l.in + (l.bias ? l.out : 0);
      if (l.name === 'lm_head') b.head += s.tieWordEmbeddings ? 0 : n;
      else b.linears += n;
    }
    b.embeddings = s.vocabSize * s.hiddenSize;
    b.norms = (2 * s.numLayers + 1) * s.hiddenSize; // input/post-attention RMSNorm per layer + final norm
  } else {
    // Grouped from the official state-dict names and shapes.
    for (const [name, shape] of rwkv6TensorShapes(s.config)) {
      const n = shape.reduce((a, d) => a * d, 1);
      if (name === 'emb.weight') b.embeddings += n;
      else if (name === 'head.weight') b.head += n;
      else if (/\.(ln\d|ln_x|ln_out)\.|^ln_out\./.test(name)) b.norms += n;
      else if (/\.(att|ffn)\.(receptance|key|value|gate|output)\.weight$/.test(name)) b.linears += n;
      else b.other += n;
    }
  }
  b.total = b.embeddings + b.linears + b.norms + b.head + b.other;
  return b;
}
