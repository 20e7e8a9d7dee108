/**
 * The LLaMA-family config: HF `config.json` (llama, mistral, qwen2) parsed into one validated, fully resolved object.
 * Every option the model does not implement is an error naming the field and its value, never a silent difference.
 */

/** RoPE frequency scaling (HF `rope_scaling` / `rope_parameters`). */
export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

export interface LlamaConfig {
  modelType: 'llama' | 'mistral' | 'qwen2';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Per-head width; HF's explicit `head_dim` when given, else hidden / heads. */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v (llama `attention_bias`, always on for qwen2). */
  qkvBias: boolean;
  /** Bias on o_proj (llama `attention_bias`; never for qwen2). */
  oBias: boolean;
  /** Bias on gate/up/down (llama `mlp_bias`). */
  mlpBias: boolean;
  /** Mistral sliding-window attention: a query sees at most this many keys (itself included); null = full causal. */
  slidingWindow: number | null;
  initializerRange: number;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
}

const ARCHITECTURES: Record<LlamaConfig['modelType'], string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

/** True when the config.json describes a model this file can build. */
export function isLlamaFamily(raw: Record<string, unknown>): boolean {
  return typeof raw.model_type === 'string' && raw.model_type in ARCHITECTURES;
}

function posInt(raw: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new Error(`${where}: '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function posNum(raw: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new Error(`${where}: '${key}' must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(raw: Record<string, unknown>, key: string, where: string, fallback: boolean): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'boolean') throw new Error(`${where}: '${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function tokenId(raw: Record<string, unknown>, key: string, where: string): number | null {
  const v = raw[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${where}: '${key}' must be a token id, got ${JSON.stringify(v)}`);
  return v;
}

function parseRope(raw: Record<string, unknown>, where: string): { theta: number; scaling: RopeScaling } {
  // transformers v5 moves rope_theta and the scaling dict into `rope_parameters`; v4 uses rope_theta + rope_scaling.
  const params = (raw.rope_parameters ?? null) as Record<string, unknown> | null;
  const scalingRaw = (raw.rope_scaling ?? params ?? null) as Record<string, unknown> | null;
  const theta = posNum(params && params.rope_theta !== undefined ? params : raw, 'rope_theta', where, 10000);
  if (scalingRaw === null) return { theta, scaling: { type: 'default' } };
  if (typeof scalingRaw !== 'object' || Array.isArray(scalingRaw))
    throw new Error(`${where}: 'rope_scaling' must be an object or null, got ${JSON.stringify(scalingRaw)}`);
  const type = scalingRaw.rope_type ?? scalingRaw.type ?? 'default';
  const w = `${where} rope_scaling`;
  switch (type) {
    case 'default':
      return { theta, scaling: { type: 'default' } };
    case 'linear':
      return { theta, scaling: { type: 'linear', factor: posNum(scalingRaw, 'factor', w) } };
    case 'llama3': {
      const scaling: RopeScaling = {
        type: 'llama3',
        factor: posNum(scalingRaw, 'factor', w),
        lowFreqFactor: posNum(scalingRaw, 'low_freq_factor', w),
        highFreqFactor: posNum(scalingRaw, 'high_freq_factor', w),
        originalMaxPositionEmbeddings: posInt(scalingRaw, 'original_max_position_embeddings', w),
      };
      if (scaling.highFreqFactor <= scaling.lowFreqFactor)
        throw new Error(`${w}: high_freq_factor (${scaling.highFreqFactor}) must exceed low_freq_factor (${scaling.lowFreqFactor})`);
      return { theta, scaling };
    }
    default:
      throw new Error(`${where}: rope_scaling type '${String(type)}' is not implemented (supported: default, linear, llama3)`);
  }
}

/** Validate and resolve a LLaMA-family HF config.json; `where` names the source in errors. */
export function parseLlamaConfig(raw: Record<string, unknown>, where = 'config.json'): LlamaConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: config must be a JSON object`);
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !(modelType in ARCHITECTURES))
    throw new Error(
      `${where}: model_type ${JSON.stringify(modelType)} is not a supported LLaMA-family architecture ` +
        `(supported: ${Object.keys(ARCHITECTURES).join(', ')})`,
    );
  const mt = modelType as LlamaConfig['modelType'];
  if (raw.architectures !== undefined && raw.architectures !== null) {
    const archs = raw.architectures;
    if (!Array.isArray(archs) || archs.some((a) => a !== ARCHITECTURES[mt]))
      throw new Error(`${where}: architectures ${JSON.stringify(archs)} is not supported for model_type '${mt}' (expected ["${ARCHITECTURES[mt]}"])`);
  }
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu' && act !== 'swish') throw new Error(`${where}: hidden_act '${String(act)}' is not supported (only silu)`);

  const hiddenSize = posInt(raw, 'hidden_size', where);
  const numHeads = posInt(raw, 'num_attention_heads', where);
  const numKvHeads = posInt(raw, 'num_key_value_heads', where, numHeads);
  if (numHeads % numKvHeads !== 0)
    throw new Error(`${where}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  let headDim: number;
  if (raw.head_dim !== undefined && raw.head_dim !== null) headDim = posInt(raw, 'head_dim', where);
  else {
    if (hiddenSize % numHeads !== 0)
      throw new Error(`${where}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and no head_dim is given`);
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) throw new Error(`${where}: head_dim (${headDim}) must be even for rotary embeddings`);
  const rope = parseRope(raw, where);
  if (raw.partial_rotary_factor !== undefined && raw.partial_rotary_factor !== 1)
    throw new Error(`${where}: partial_rotary_factor ${JSON.stringify(raw.partial_rotary_factor)} is not supported (only 1)`);

  let qkvBias = false;
  let oBias = false;
  let slidingWindow: number | null = null;
  if (mt === 'qwen2') {
    // Qwen2 always has q/k/v biases and no o_proj bias; its sliding window applies per layer, which is not implemented.
    qkvBias = true;
    if (raw.use_sliding_window === true) throw new Error(`${where}: qwen2 use_sliding_window=true is not supported`);
  } else {
    qkvBias = oBias = bool(raw, 'attention_bias', where, false);
  }
  // MistralConfig defaults sliding_window to 4096 when the key is absent; an explicit null turns it off
  if (mt === 'mistral' && raw.sliding_window !== null) slidingWindow = posInt(raw, 'sliding_window', where, 4096);

  const eos = raw.eos_token_id;
  let eosTokenId: number | number[] | null = null;
  if (Array.isArray(eos)) {
    if (!eos.every((e) => Number.isInteger(e) && e >= 0)) throw new Error(`${where}: 'eos_token_id' must be token ids, got ${JSON.stringify(eos)}`);
    eosTokenId = eos as number[];
  } else eosTokenId = tokenId(raw, 'eos_token_id', where);

  return {
    modelType: mt,
    vocabSize: posInt(raw, 'vocab_size', where),
    hiddenSize,
    intermediateSize: posInt(raw, 'intermediate_size', where),
    numLayers: posInt(raw, 'num_hidden_layers', where),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: posNum(raw, 'rms_norm_eps', where, 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings: posInt(raw, 'max_position_embeddings', where, 2048),
    tieWordEmbeddings: bool(raw, 'tie_word_embeddings', where, false),
    qkvBias,
    oBias,
    mlpBias: bool(raw, 'mlp_bias', where, false),
    slidingWindow,
    initializerRange: posNum(raw, 'initializer_range', where, 0.02),
    bosTokenId: tokenId(raw, 'bos_token_id', where),
    eosTokenId,
    padTokenId: tokenId(raw, 'pad_token_id', where),
  };
}

/**
 * A complete HF config.json for a config given in part (createLlama): HF's LlamaConfig defaults filled in, so the
 * saved folder loads in transformers and here alike.
 */
export function completeLlamaConfig(partial: Record<string, unknown>): Record<string, unknown> {
  const mt = (partial.model_type as string | undefined) ?? 'llama';
  const full: Record<string, unknown> = {
    architectures: [ARCHITECTURES[mt as LlamaConfig['modelType']] ?? 'LlamaForCausalLM'],
    model_type: mt,
    hidden_act: 'silu',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    rope_scaling: null,
    max_position_embeddings: 2048,
    tie_word_embeddings: false,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    initializer_range: 0.02,
    torch_dtype: 'float32',
    ...partial,
  };
  if (full.num_key_value_heads === undefined) full.num_key_value_heads = full.num_attention_heads;
  parseLlamaConfig(full, 'createLlama config'); // validate now, with field names, rather than deep in init
  return full;
}
