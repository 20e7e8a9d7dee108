/**
 * RWKV6 ("Finch", official x060) causal LM in TensorFlow.js: embedding, ln0 on block 0, per block ln1 -> time mix and
 * ln2 -> channel mix (both residual), ln_out, head. Module and parameter names are the official checkpoint names
 * (`blocks.N.att.key`, `blocks.N.ffn.value`, `emb.weight`, `head.weight`, ...), so adapters target them by suffix.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorMap } from '../io/safetensors';
import { createLinear, type LinearLayer } from './linear';
import { causalLmLoss, checkIds, checkLossInputs, embeddingLookup } from './lm-ops';
import { collectTrainable } from './trainable';
import type { CausalLM, Linear } from './types';
import { rwkv6BlockLinears, rwkv6TensorShapes, validateRwkv6Config, type Rwkv6Config } from './rwkv6-config';
import { initRwkv6Weights } from './rwkv6-init';
import { channelMix, layerNorm, timeMix, type BlockParams, type MixDims, type WkvOptions } from './rwkv6-mix';
import type { WkvMode } from './rwkv6-wkv';

export interface Rwkv6Options {
  /** WKV form for full sequences: 'chunked' (default, fast) or 'scan' (the direct recurrence). */
  wkv?: WkvMode;
  /** Chunk length of the chunked form (default 16). */
  chunkLen?: number;
}

/**
 * The recurrent state of one block: the two token-shift inputs and the WKV state. A type alias, not an interface, so
 * it is a tf.TensorContainer and can be returned from tf.tidy.
 */
export type Rwkv6BlockState = {
  /** ln1 output at the last token [B, C]. */
  attX: tf.Tensor2D;
  /** [B*H, N, N]. */
  wkv: tf.Tensor3D;
  /** ln2 output at the last token [B, C]. */
  ffnX: tf.Tensor2D;
};
export type Rwkv6State = Rwkv6BlockState[];

export class Rwkv6Model implements CausalLM {
  readonly arch = 'rwkv6' as const;
  readonly config: Record<string, unknown>;
  readonly vocabSize: number;
  readonly wkvOptions: WkvOptions;
  private readonly params = new Map<string, tf.Variable>();
  private readonly lins = new Map<string, LinearLayer>();
  private readonly blocks: BlockParams[] = [];
  private readonly dims: MixDims;
  private disposed = false;

  /** Build from official-name tensors (shapes already checked against the config, see rwkv6-checkpoint). */
  constructor(readonly cfg: Rwkv6Config, weights: TensorMap, opts: Rwkv6Options = {}) {
    validateRwkv6Config(cfg);
    this.config = { ...cfg };
    this.vocabSize = cfg.vocab_size;
    const chunkLen = opts.chunkLen ?? 16;
    if (!Number.isInteger(chunkLen) || chunkLen < 1) throw new Error(`rwkv6: chunkLen must be a positive integer, got ${chunkLen}`);
    const mode = opts.wkv ?? 'chunked';
    if (mode !== 'chunked' && mode !== 'scan') throw new Error(`rwkv6: wkv must be 'chunked' or 'scan', got ${JSON.stringify(mode)}`);
    this.wkvOptions = { mode, chunkLen };
    this.dims = {
      C: cfg.n_embd,
      A: cfg.dim_att,
      H: cfg.dim_att / cfg.head_size,
      N: cfg.head_size,
      dMix: cfg.d_mix_lora,
      lnxEps: 1e-5 * cfg.head_size_divisor ** 2,
    };
    const shapes = rwkv6TensorShapes(cfg);
    // Check everything before allocating, so a bad map leaves no variables behind.
    for (const [name, shape] of shapes) {
      const t = weights.get(name);
      if (!t) throw new Error(`rwkv6: missing tensor ${name}`);
      if (t.data.length !== shape.reduce((a, b) => a * b, 1))
        throw new Error(`rwkv6: tensor ${name} has ${t.data.length} values, expected shape [${shape}]`);
    }
    const linearSuffixes = Object.keys(rwkv6BlockLinears(cfg)).map((s) => `.${s}.weight`);
    for (const [name, shape] of shapes) {
      const t = weights.get(name)!;
      const isLinear = name === 'head.weight' || linearSuffixes.some((s) => name.endsWith(s));
      // The variable shares (and holds a reference to) the temporary tensor's data, so the temporary can go.
      const tmp = tf.tensor(t.data, shape);
      if (isLinear) {
        const modName = name.slice(0, -'.weight'.length);
        const lin = createLinear(modName, tmp as tf.Tensor2D);
        this.lins.set(modName, lin);
        this.params.set(name, lin.weight);
      } else {
        this.params.set(name, tf.variable(tmp, false));
      }
      tmp.dispose();
    }
    for (let i = 0; i < cfg.n_layer; i++) {
      const prefix = `blocks.${i}.`;
      this.blocks.push({
        get: (n) => this.param(prefix + n),
        linear: (n) => {
          const l = this.lins.get(prefix + n);
          if (!l) throw new Error(`rwkv6: no linear module ${prefix + n}`);
          return l;
        },
      });
    }
  }

  private param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new Error(`rwkv6: no parameter ${name}`);
    return p;
  }

  private checkIds(ids: tf.Tensor2D, what: string): void {
    if (this.disposed) throw new Error('rwkv6: model has been disposed');
    if (ids.rank !== 2) throw new Error(`rwkv6 ${what}: input_ids must be [B, T], got shape [${ids.shape}]`);
    if (ids.dtype !== 'int32') throw new Error(`rwkv6 ${what}: input_ids must be int32, got ${ids.dtype}`);
    if (ids.shape[0] < 1 || ids.shape[1] < 1) throw new Error(`rwkv6 ${what}: input_ids must be non-empty, got shape [${ids.shape}]`);
    checkIds(ids.dataSync(), this.vocabSize, `rwkv6 ${what} input_ids`);
  }

  /** Token embedding [B, T, C] (gather, with a scatter-add gradient when the embedding trains). */
  private embed(ids: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = ids.shape;
    const x = embeddingLookup(this.param('emb.weight') as tf.Variable<tf.Rank.R2>, tf.reshape(ids, [B * T]) as tf.Tensor1D); // [BT, C]
    return tf.reshape(x, [B, T, this.dims.C]);
  }

  /**
   * Run the model on ids [B, T] from an optional state (null: the zero state). Returns logits [B, T, V] (or [B, 1, V]
   * for the last position only) and the state after the last token. Callers own the returned tensors.
   */
  forward(ids: tf.Tensor2D, state: Rwkv6State | null = null, opts: { lastOnly?: boolean } = {}): { logits: tf.Tensor3D; state: Rwkv6State } {
    this.checkIds(ids, 'forward');
    const [B, T] = ids.shape;
    const eps = this.cfg.layer_norm_epsilon;
    if (state) {
      if (state.length !== this.cfg.n_layer) throw new Error(`rwkv6 forward: state has ${state.length} blocks, model has ${this.cfg.n_layer}`);
      if (state[0].attX.shape[0] !== B) throw new Error(`rwkv6 forward: state batch ${state[0].attX.shape[0]} does not match input batch ${B}`);
    }
    return tf.tidy(() => {
      let x = this.embed(ids); // [B, T, C]
      const next: Rwkv6State = [];
      for (let i = 0; i < this.cfg.n_layer; i++) {
        const p = this.blocks[i];
        const pre = `blocks.${i}`;
        if (i === 0) x = layerNorm(x, this.param(`${pre}.ln0.weight`), this.param(`${pre}.ln0.bias`), eps) as tf.Tensor3D;
        const a = layerNorm(x, this.param(`${pre}.ln1.weight`), this.param(`${pre}.ln1.bias`), eps) as tf.Tensor3D;
        const tm = timeMix(a, state?.[i].attX ?? null, state?.[i].wkv ?? null, p, this.dims, this.wkvOptions);
        x = tf.add(x, tm.out); // [B, T, C]
        const f = layerNorm(x, this.param(`${pre}.ln2.weight`), this.param(`${pre}.ln2.bias`), eps) as tf.Tensor3D;
        const cm = channelMix(f, state?.[i].ffnX ?? null, p);
        x = tf.add(x, cm.out); // [B, T, C]
        next.push({ attX: tm.lastX, wkv: tm.state, ffnX: cm.lastX });
      }
      const C = this.dims.C;
      const tOut = opts.lastOnly ? 1 : T;
      const xs = opts.lastOnly ? tf.slice(x, [0, T - 1, 0], [B, 1, C]) : x; // [B, tOut, C]
      const h = layerNorm(xs, this.param('ln_out.weight'), this.param('ln_out.bias'), eps);
      const logits = this.lins.get('head')!.apply(tf.reshape(h, [B * tOut, C]) as tf.Tensor2D); // [B*tOut, V]
      return { logits: tf.reshape(logits, [B, tOut, this.vocabSize]) as tf.Tensor3D, state: next };
    });
  }

  logits(inputIds: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.forward(inputIds).logits);
  }

  /** Mean cross-entropy of logits at t against labels[t + 1], skipping labels equal to -100 (HF semantics; 0 if all are). */
  loss(inputIds: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
    this.checkIds(inputIds, 'loss');
    checkLossInputs(inputIds, labels, this.vocabSize, 'rwkv6 loss');
    return tf.tidy(() => causalLmLoss(this.logits(inputIds), labels));
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

  /** The zero state for a batch of B sequences. */
  zeroState(B = 1): Rwkv6State {
    const { C, H, N } = this.dims;
    return Array.from({ length: this.cfg.n_layer }, () => ({
      attX: tf.zeros([B, C]) as tf.Tensor2D,
      wkv: tf.zeros([B * H, N, N]) as tf.Tensor3D,
      ffnX: tf.zeros([B, C]) as tf.Tensor2D,
    }));
  }

  /**
   * Greedy decoding: the prompt in one pass (chunked WKV), then one token per step from the recurrent state, O(1) in
   * the prefix length. Stops after maxNewTokens or at eosTokenId (default: the config's eos_token_id), which is
   * included in the result, as HF generate does.
   */
  async generate(prompt: number[], maxNewTokens: number, eosTokenId?: number): Promise<number[]> {
    if (prompt.length === 0) throw new Error('rwkv6 generate: prompt must contain at least one token');
    checkIds(prompt, this.vocabSize, 'rwkv6 generate prompt');
    const eos = eosTokenId ?? this.cfg.eos_token_id ?? undefined;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`rwkv6 generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
    const out: number[] = [];
    let state: Rwkv6State | null = null;
    let tokens = prompt; // the whole prompt first (chunked WKV), then one token per step from the recurrent state
    try {
      while (out.length < maxNewTokens) {
        const ids = tf.tensor2d([tokens], [1, tokens.length], 'int32');
        let res: { logits: tf.Tensor3D; state: Rwkv6State };
        try {
          res = this.forward(ids, state, { lastOnly: true });
        } finally {
          ids.dispose();
        }
        if (state) disposeRwkv6State(state);
        state = res.state;
        const row = await res.logits.data();
        res.logits.dispose();
        let next = 0;
        for (let i = 1; i < row.length; i++) if (row[i] > row[next]) next = i; // first maximum, like torch.argmax
        out.push(next);
        if (next === eos) break;
        tokens = [next];
      }
    } finally {
      if (state) disposeRwkv6State(state);
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const linearWeights = new Set<tf.Variable>([...this.lins.values()].map((l) => l.weight));
    for (const l of this.lins.values()) l.dispose();
    for (const p of this.params.values()) if (!linearWeights.has(p)) p.dispose();
    this.params.clear();
    this.lins.clear();
  }
}

export function disposeRwkv6State(s: Rwkv6State): void {
  for (const b of s) tf.dispose([b.attX, b.wkv, b.ffnX]);
}

/** A randomly initialised RWKV6 model (official-style init, see rwkv6-init). */
export function createRwkv6(config: Rwkv6Config, opts: { seed: number } & Rwkv6Options): Rwkv6Model {
  validateRwkv6Config(config);
  if (!Number.isInteger(opts.seed)) throw new Error(`rwkv6: seed must be an integer, got ${opts.seed}`);
  return new Rwkv6Model(config, initRwkv6Weights(config, opts.seed), opts);
}
