/**
 * HF LlamaForCausalLM in TensorFlow.js (float32): embed_tokens -> N x [RMSNorm -> attention -> residual -> RMSNorm ->
 * SwiGLU MLP -> residual] -> norm -> lm_head (optionally tied to embed_tokens). Also serves mistral and qwen2 configs.
 * Reference: transformers' modeling_llama.py. Module and parameter names are HF's, so checkpoints and PEFT adapter files
 * map one-to-one. Every linear runs on [B*T, C] through LinearLayer.apply, where adapters plug in.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed } from '../util/random';
import type { TensorMap } from '../io/safetensors';
import { takeTensors, type ParamSpec } from './hf-checkpoint';
import { attentionMask, selfAttention, type AttentionModules, type LayerKV } from './llama-attention';
import { completeLlamaConfig, parseLlamaConfig, type LlamaConfig } from './llama-config';
import { LinearLayer } from './linear';
import { causalLmLoss, checkIds, checkLossInputs, embeddingLookup, rmsNorm } from './lm-ops';
import { RopeCache } from './rope';
import { collectTrainable } from './trainable';
import type { CausalLM, Linear } from './types';

interface LlamaBlock {
  inputNorm: tf.Variable<tf.Rank.R1>;
  attn: AttentionModules;
  postNorm: tf.Variable<tf.Rank.R1>;
  gate: LinearLayer;
  up: LinearLayer;
  down: LinearLayer;
}

type ParamKind = 'embed' | 'weight' | 'bias' | 'norm';

/** Every tensor of the HF state dict this config implies, in module order (lm_head omitted when tied). */
export function llamaParamSpecs(c: LlamaConfig): (ParamSpec & { kind: ParamKind })[] {
  const { hiddenSize: C, intermediateSize: I, vocabSize: V, headDim: hd } = c;
  const specs: (ParamSpec & { kind: ParamKind })[] = [{ name: 'model.embed_tokens.weight', shape: [V, C], kind: 'embed' }];
  const lin = (name: string, out: number, inp: number, bias: boolean) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], kind: 'weight' });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], kind: 'bias' });
  };
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [C], kind: 'norm' });
    lin(`${p}.self_attn.q_proj`, c.numHeads * hd, C, c.qkvBias);
    lin(`${p}.self_attn.k_proj`, c.numKvHeads * hd, C, c.qkvBias);
    lin(`${p}.self_attn.v_proj`, c.numKvHeads * hd, C, c.qkvBias);
    lin(`${p}.self_attn.o_proj`, C, c.numHeads * hd, c.oBias);
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [C], kind: 'norm' });
    lin(`${p}.mlp.gate_proj`, I, C, c.mlpBias);
    lin(`${p}.mlp.up_proj`, I, C, c.mlpBias);
    lin(`${p}.mlp.down_proj`, C, I, c.mlpBias);
  }
  specs.push({ name: 'model.norm.weight', shape: [C], kind: 'norm' });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [V, C], kind: 'weight' });
  return specs;
}

export class LlamaForCausalLM implements CausalLM {
  readonly arch = 'llama' as const;
  readonly vocabSize: number;
  private readonly embed: tf.Variable<tf.Rank.R2>;
  private readonly blocks: LlamaBlock[] = [];
  private readonly finalNorm: tf.Variable<tf.Rank.R1>;
  private readonly lmHead: LinearLayer;
  private readonly params = new Map<string, tf.Variable>();
  private readonly lins = new Map<string, LinearLayer>();
  private readonly rope: RopeCache;
  private readonly masks = new Map<string, tf.Tensor2D | null>();

  /** Build from the HF config and float32 data for every name of llamaParamSpecs(cfg). */
  constructor(
    readonly config: Record<string, unknown>,
    readonly cfg: LlamaConfig,
    data: Map<string, Float32Array>,
  ) {
    this.vocabSize = cfg.vocabSize;
    const shapes = new Map(llamaParamSpecs(cfg).map((s) => [s.name, s.shape]));
    const variable = <R extends tf.Rank>(name: string): tf.Variable<R> => {
      const v = tf.tidy(() => tf.variable(tf.tensor(data.get(name)!, shapes.get(name)!), false)) as unknown as tf.Variable<R>; // tidy frees the source tensor
      this.params.set(name, v);
      return v;
    };
    const linear = (name: string, bias: boolean): LinearLayer => {
      const l = new LinearLayer(name, variable<tf.Rank.R2>(`${name}.weight`), bias ? variable<tf.Rank.R1>(`${name}.bias`) : null);
      this.lins.set(name, l);
      return l;
    };
    this.embed = variable<tf.Rank.R2>('model.embed_tokens.weight');
    for (let i = 0; i < cfg.numLayers; i++) {
      const p = `model.layers.${i}`;
      const inputNorm = variable<tf.Rank.R1>(`${p}.input_layernorm.weight`);
      const attn = {
        q: linear(`${p}.self_attn.q_proj`, cfg.qkvBias),
        k: linear(`${p}.self_attn.k_proj`, cfg.qkvBias),
        v: linear(`${p}.self_attn.v_proj`, cfg.qkvBias),
        o: linear(`${p}.self_attn.o_proj`, cfg.oBias),
      };
      const postNorm = variable<tf.Rank.R1>(`${p}.post_attention_layernorm.weight`);
      const gate = linear(`${p}.mlp.gate_proj`, cfg.mlpBias);
      const up = linear(`${p}.mlp.up_proj`, cfg.mlpBias);
      const down = linear(`${p}.mlp.down_proj`, cfg.mlpBias);
      this.blocks.push({ inputNorm, attn, postNorm, gate, up, down });
    }
    this.finalNorm = variable<tf.Rank.R1>('model.norm.weight');
    if (cfg.tieWordEmbeddings) {
      // one variable serves both: parameters() lists it once, under HF's saved name model.embed_tokens.weight
      this.lmHead = new LinearLayer('lm_head', this.embed);
      this.lins.set('lm_head', this.lmHead);
    } else this.lmHead = linear('lm_head', false);
    this.rope = new RopeCache(cfg.headDim, cfg.ropeTheta, cfg.ropeScaling, 1 / Math.sqrt(cfg.headDim));
  }

  linears(): Map<string, Linear> {
    return new Map(this.lins);
  }

  parameters(): Map<string, tf.Variable> {
    return new Map(this.params);
  }

  trainableVariables(): tf.Variable[] {
    return collectTrainable(this.params.values(), this.lins.values());
  }

  logits(inputIds: tf.Tensor2D): tf.Tensor3D {
    this.checkInput(inputIds, 'logits');
    return this.forward(inputIds);
  }

  loss(inputIds: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
    this.checkInput(inputIds, 'loss');
    checkLossInputs(inputIds, labels, this.vocabSize, 'llama loss');
    return tf.tidy(() => causalLmLoss(this.forward(inputIds), labels));
  }

  /**
   * Greedy decoding with a key/value cache: one prefill pass over the prompt, then one position per step.
   * Stops after maxNewTokens or when the token equals eosTokenId (default: the config's eos ids); the eos token is
   * included in the result, as HF generate does.
   */
  async generate(prompt: number[], maxNewTokens: number, eosTokenId?: number): Promise<number[]> {
    if (prompt.length === 0) throw new Error('llama generate: the prompt must hold at least one token');
    checkIds(prompt, this.vocabSize, 'llama generate prompt');
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
      throw new Error(`llama generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
    const eos = new Set<number>(eosTokenId !== undefined ? [eosTokenId] : ([] as number[]).concat(this.cfg.eosTokenId ?? []));
    const out: number[] = [];
    let cache: LayerKV[] | null = null;
    let input = prompt;
    try {
      while (out.length < maxNewTokens) {
        const past: LayerKV[] | null = cache;
        const [logits, ...flatKv] = tf.tidy(() => {
          const ids = tf.tensor2d(input, [1, input.length], 'int32');
          const { h, kv } = this.hidden(ids, past);
          const last = tf.slice(h, [input.length - 1, 0], [1, h.shape[1]]); // [1, C]
          return [this.head(last), ...kv.flatMap((l) => [l.k, l.v])]; // [1, V], then k/v per layer
        });
        if (past) tf.dispose(past.flatMap((l) => [l.k, l.v]));
        cache = this.blocks.map((_, i) => ({ k: flatKv[2 * i] as tf.Tensor3D, v: flatKv[2 * i + 1] as tf.Tensor3D }));
        const row = await logits.data();
        logits.dispose();
        let next = 0;
        for (let i = 1; i < row.length; i++) if (row[i] > row[next]) next = i; // first maximum, like torch.argmax
        out.push(next);
        if (eos.has(next)) break;
        input = [next];
      }
    } finally {
      if (cache) tf.dispose(cache.flatMap((l) => [l.k, l.v]));
    }
    return out;
  }

  dispose(): void {
    for (const l of this.lins.values()) {
      if (l === this.lmHead && this.cfg.tieWordEmbeddings) l.adapter?.dispose(); // its weight is the embedding, freed below
      else l.dispose();
    }
    for (const v of this.params.values()) if (!v.isDisposed) v.dispose();
    this.rope.dispose();
    for (const m of this.masks.values()) m?.dispose();
    this.masks.clear();
  }

  private checkInput(ids: tf.Tensor, where: string): void {
    if (ids.rank !== 2) throw new Error(`llama ${where}: input_ids must be [B, T], got shape [${ids.shape}]`);
    if (ids.dtype !== 'int32') throw new Error(`llama ${where}: input_ids must be int32, got ${ids.dtype}`);
    if (ids.shape[1] === 0) throw new Error(`llama ${where}: input_ids has no positions`);
    checkIds(ids.dataSync(), this.vocabSize, `llama ${where} input_ids`);
  }

  /** Logits [B, T, V] of checked ids [B, T]. */
  private forward(inputIds: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = inputIds.shape;
      return tf.reshape(this.head(this.hidden(inputIds, null).h), [B, T, this.vocabSize]) as tf.Tensor3D; // [B, T, V]
    });
  }

  /** Final norm and lm_head: h [N, C] -> logits [N, V]. */
  private head(h: tf.Tensor2D): tf.Tensor2D {
    return this.lmHead.apply(rmsNorm(h, this.finalNorm, this.cfg.rmsNormEps));
  }

  /** Additive mask [T, Tk] (or null: nothing masked); kept per shape, except single-token decoding steps (every Tk). */
  private mask(T: number, Tk: number): tf.Tensor2D | null {
    if (T === 1) {
      const m = attentionMask(1, Tk, this.cfg.slidingWindow);
      return m ? tf.tensor2d(m, [1, Tk]) : null; // freed by the caller's tidy
    }
    const key = `${T}:${Tk}`;
    if (!this.masks.has(key)) {
      const m = attentionMask(T, Tk, this.cfg.slidingWindow);
      this.masks.set(key, m ? tf.keep(tf.tensor2d(m, [T, Tk])) : null);
    }
    return this.masks.get(key)!;
  }

  /** Decoder stack for ids [B, T] after `past` positions: hidden states [B*T, C] before the final norm, and the new cache. */
  private hidden(ids: tf.Tensor2D, past: LayerKV[] | null): { h: tf.Tensor2D; kv: LayerKV[] } {
    const [B, T] = ids.shape;
    const c = this.cfg;
    const start = past ? past[0].v.shape[0] : 0;
    const r = this.rope.slice(start, T);
    const mask = this.mask(T, start + T);
    let h = embeddingLookup(this.embed, tf.reshape(ids, [-1]) as tf.Tensor1D); // [B*T, C]
    const kv: LayerKV[] = [];
    this.blocks.forEach((b, i) => {
      const shape = { numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim };
      const a = selfAttention(b.attn, shape, rmsNorm(h, b.inputNorm, c.rmsNormEps), B, T, r, mask, past ? past[i] : null);
      kv.push(a.kv);
      h = tf.add(h, a.out); // [B*T, C]
      const x = rmsNorm(h, b.postNorm, c.rmsNormEps);
      const g = b.gate.apply(x); // [B*T, I]
      const act = tf.mul(tf.mul(g, tf.sigmoid(g)), b.up.apply(x)) as tf.Tensor2D; // [B*T, I] silu(gate) * up
      h = tf.add(h, b.down.apply(act)); // [B*T, C]
    });
    return { h, kv };
  }
}

/**
 * A randomly initialised model, initialised as HF does (LlamaPreTrainedModel._init_weights): linears and embeddings
 * N(0, initializer_range), biases 0, the padding row of the embedding 0, norms 1. Each tensor draws from its own stream
 * deriveSeed(seed, name), so the init does not depend on creation order. Missing config keys take HF's defaults.
 */
export function createLlama(config: Record<string, unknown>, init: { seed?: number } = {}): LlamaForCausalLM {
  const full = completeLlamaConfig(config);
  const cfg = parseLlamaConfig(full, 'createLlama config');
  const seed = init.seed ?? 0;
  const data = new Map<string, Float32Array>();
  for (const { name, shape, kind } of llamaParamSpecs(cfg)) {
    const n = shape.reduce((a, d) => a * d, 1);
    if (kind === 'norm') data.set(name, new Float32Array(n).fill(1));
    else if (kind === 'bias') data.set(name, new Float32Array(n));
    else {
      const w = new Rng(deriveSeed(seed, name)).normalArray(n, cfg.initializerRange);
      const pad = cfg.padTokenId;
      if (kind === 'embed' && pad !== null && pad < cfg.vocabSize) w.fill(0, pad * shape[1], (pad + 1) * shape[1]); // nn.Embedding padding_idx
      data.set(name, w);
    }
  }
  return new LlamaForCausalLM(full, cfg, data);
}

/** Old checkpoints store the rotary inv_freq buffer; it is recomputed from the config. */
const IGNORABLE = (name: string) => name.endsWith('rotary_emb.inv_freq') || name === 'lm_head.weight';

/**
 * A model from a parsed config.json and its weights; every missing tensor or shape mismatch is reported at once.
 * Unexpected tensors are returned (HF warns and ignores them); a tied model's stored lm_head.weight is ignored as in HF.
 */
export function llamaFromTensors(raw: Record<string, unknown>, tensors: TensorMap, where: string): { model: LlamaForCausalLM; unused: string[] } {
  const cfg = parseLlamaConfig(raw, `${where}/config.json`);
  const { data, unused } = takeTensors(tensors, llamaParamSpecs(cfg), where, IGNORABLE);
  return { model: new LlamaForCausalLM(raw, cfg, data), unused };
}
