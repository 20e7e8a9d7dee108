/**
 * RWKV6 ("Finch", official x060) configuration: the config.json the kit reads and writes next to model.safetensors,
 * its validation, size presets, and the expected official tensor names and shapes (used by load, save and init).
 */

/** The config.json of an RWKV6 checkpoint folder. Official checkpoints ship no config; every size is inferable from shapes. */
export interface Rwkv6Config {
  model_type: 'rwkv6';
  vocab_size: number;
  /** Model width C. */
  n_embd: number;
  n_layer: number;
  /** Width of r/k/v/g and the WKV state (official default n_embd). */
  dim_att: number;
  /** Channel-mix hidden width (official: int(3.5 * n_embd) rounded down to a multiple of 32). */
  dim_ffn: number;
  /** Head size N; n_head = dim_att / head_size (official 64). */
  head_size: number;
  /** ln_x eps = 1e-5 * head_size_divisor^2, as the official x060 GroupNorm (default 8, i.e. eps 64e-5). */
  head_size_divisor: number;
  /** Rank of the data-dependent token-shift ("ddlerp") LoRA, time_maa_w1 [C, 5 * d_mix_lora] (official 32; 64 at C >= 4096). */
  d_mix_lora: number;
  /** Rank of the data-dependent decay LoRA, time_decay_w1 [C, d_decay_lora] (official 64; 128 at C >= 4096). */
  d_decay_lora: number;
  /** eps of ln0 / ln1 / ln2 / ln_out (torch nn.LayerNorm default). */
  layer_norm_epsilon: number;
  bos_token_id?: number | null;
  eos_token_id?: number | null;
}

const INT_FIELDS = ['vocab_size', 'n_embd', 'n_layer', 'dim_att', 'dim_ffn', 'head_size', 'head_size_divisor', 'd_mix_lora', 'd_decay_lora'] as const;

/** Fill the optional fields of a partial config with the official defaults. */
export function rwkv6Defaults(c: Pick<Rwkv6Config, 'vocab_size' | 'n_embd' | 'n_layer'> & Partial<Rwkv6Config>): Rwkv6Config {
  const big = c.n_embd >= 4096;
  return {
    model_type: 'rwkv6',
    dim_att: c.n_embd,
    dim_ffn: Math.floor((c.n_embd * 3.5) / 32) * 32,
    head_size: 64,
    head_size_divisor: 8,
    d_mix_lora: big ? 64 : 32,
    d_decay_lora: big ? 128 : 64,
    layer_norm_epsilon: 1e-5,
    ...c,
  };
}

/** Throw naming the field and value when a config is not a usable RWKV6 config. */
export function validateRwkv6Config(c: Rwkv6Config, where = 'rwkv6 config'): void {
  if (c.model_type !== 'rwkv6') throw new Error(`${where}: model_type must be 'rwkv6', got ${JSON.stringify(c.model_type)}`);
  for (const f of INT_FIELDS) {
    const v = c[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${where}: ${f} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (c.dim_att % c.head_size !== 0)
    throw new Error(`${where}: dim_att=${c.dim_att} must be a multiple of head_size=${c.head_size}`);
  if (!(typeof c.layer_norm_epsilon === 'number' && c.layer_norm_epsilon > 0))
    throw new Error(`${where}: layer_norm_epsilon must be a positive number, got ${JSON.stringify(c.layer_norm_epsilon)}`);
}

/** Parse a config.json object (unknown keys are kept out; missing optional fields take official defaults). */
export function parseRwkv6Config(raw: Record<string, unknown>, where = 'config.json'): Rwkv6Config {
  if (raw.model_type !== 'rwkv6')
    throw new Error(`${where}: model_type must be 'rwkv6' for an RWKV6 checkpoint, got ${JSON.stringify(raw.model_type)}`);
  for (const f of ['vocab_size', 'n_embd', 'n_layer'] as const)
    if (raw[f] === undefined) throw new Error(`${where}: missing required field ${f}`);
  const known: Partial<Rwkv6Config> = {};
  for (const f of [...INT_FIELDS, 'layer_norm_epsilon', 'bos_token_id', 'eos_token_id'] as const)
    if (raw[f] !== undefined) (known as Record<string, unknown>)[f] = raw[f];
  const c = rwkv6Defaults(known as Rwkv6Config);
  validateRwkv6Config(c, where);
  return c;
}

/** Size presets for the kit's own pretrained base (vocab comes from the tokenizer) and the paper's 7B. */
export const RWKV6_PRESETS = {
  /** The kit's tiny base: the LLaMA tiny base's width, depth and head count (64 wide, 4 blocks, 2 heads). */
  tiny: { n_embd: 64, n_layer: 4, dim_att: 64, dim_ffn: 224, head_size: 32, d_mix_lora: 8, d_decay_lora: 16 },
  /** The LLaMA small base's width and depth (128 wide, 4 blocks, 4 heads). */
  small: { n_embd: 128, n_layer: 4, dim_att: 128, dim_ffn: 448, head_size: 32, d_mix_lora: 16, d_decay_lora: 32 },
  /** RWKV-x060-World-7B shapes (for parameter counting; not trainable here). */
  '7b': { n_embd: 4096, n_layer: 32, dim_att: 4096, dim_ffn: 14336, head_size: 64, d_mix_lora: 64, d_decay_lora: 128 },
} as const;
export type Rwkv6PresetName = keyof typeof RWKV6_PRESETS;

/** A full config from a preset name and a vocabulary size. */
export function rwkv6Preset(name: string, vocabSize: number): Rwkv6Config {
  const p = (RWKV6_PRESETS as Record<string, (typeof RWKV6_PRESETS)[Rwkv6PresetName]>)[name];
  if (!p) throw new Error(`rwkv6: unknown preset '${name}' (known: ${Object.keys(RWKV6_PRESETS).join(', ')})`);
  const c = rwkv6Defaults({ vocab_size: vocabSize, ...p });
  validateRwkv6Config(c, `rwkv6 preset '${name}'`);
  return c;
}

/** The adapter targets of the paper's RWKV6 rows: every linear of both mixers (RWKV-PEFT's 8 modules). */
export const RWKV6_TARGETS = ['att.receptance', 'att.key', 'att.value', 'att.gate', 'att.output', 'ffn.key', 'ffn.value', 'ffn.receptance'];

/** Linear modules of one block: name suffix -> [out, in]. */
export function rwkv6BlockLinears(c: Rwkv6Config): Record<string, [number, number]> {
  const C = c.n_embd;
  const A = c.dim_att;
  return {
    'att.receptance': [A, C],
    'att.key': [A, C],
    'att.value': [A, C],
    'att.gate': [A, C],
    'att.output': [C, A],
    'ffn.key': [c.dim_ffn, C],
    'ffn.value': [C, c.dim_ffn],
    'ffn.receptance': [C, C],
  };
}

/** Every official tensor name with its canonical (official .pth) shape, in model order. */
export function rwkv6TensorShapes(c: Rwkv6Config): Map<string, number[]> {
  const C = c.n_embd;
  const A = c.dim_att;
  const H = A / c.head_size;
  const m = new Map<string, number[]>();
  m.set('emb.weight', [c.vocab_size, C]);
  for (let i = 0; i < c.n_layer; i++) {
    const p = `blocks.${i}`;
    if (i === 0) for (const s of ['weight', 'bias']) m.set(`${p}.ln0.${s}`, [C]);
    for (const ln of ['ln1', 'ln2']) for (const s of ['weight', 'bias']) m.set(`${p}.${ln}.${s}`, [C]);
    for (const s of ['x', 'w', 'k', 'v', 'r', 'g']) m.set(`${p}.att.time_maa_${s}`, [1, 1, C]);
    m.set(`${p}.att.time_maa_w1`, [C, 5 * c.d_mix_lora]);
    m.set(`${p}.att.time_maa_w2`, [5, c.d_mix_lora, C]);
    m.set(`${p}.att.time_decay`, [1, 1, A]);
    m.set(`${p}.att.time_decay_w1`, [C, c.d_decay_lora]);
    m.set(`${p}.att.time_decay_w2`, [c.d_decay_lora, A]);
    m.set(`${p}.att.time_faaaa`, [H, c.head_size]);
    m.set(`${p}.att.ln_x.weight`, [A]);
    m.set(`${p}.att.ln_x.bias`, [A]);
    m.set(`${p}.ffn.time_maa_k`, [1, 1, C]);
    m.set(`${p}.ffn.time_maa_r`, [1, 1, C]);
    for (const [name, shape] of Object.entries(rwkv6BlockLinears(c))) m.set(`${p}.${name}.weight`, shape);
  }
  m.set('ln_out.weight', [C]);
  m.set('ln_out.bias', [C]);
  m.set('head.weight', [c.vocab_size, C]);
  return m;
}
