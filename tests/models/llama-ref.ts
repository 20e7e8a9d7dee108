/**
 * An independent, deliberately plain float64 LLaMA forward for tests: loops over positions, heads and features,
 * written from the HF modeling code's maths (not from lib/models), plus checkpoint writers for BF16/F16 storage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../lib/util/random';

export type Weights = Map<string, { shape: number[]; data: Float32Array }>;
type Mat = number[][];

function mat(w: Weights, name: string): Mat {
  const t = w.get(name);
  if (!t) throw new Error(`ref: missing ${name}`);
  const [r, c] = t.shape;
  return Array.from({ length: r }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
}
function vec(w: Weights, name: string): number[] | null {
  const t = w.get(name);
  return t ? Array.from(t.data) : null;
}
/** y = W x + b for W [out, in]. */
function linear(W: Mat, x: number[], b: number[] | null): number[] {
  return W.map((row, o) => row.reduce((s, wi, i) => s + wi * x[i], 0) + (b ? b[o] : 0));
}
function rms(x: number[], w: number[], eps: number): number[] {
  const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
  const inv = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * inv * w[i]);
}

/** HF inverse frequencies (default / linear / llama3), float64. */
export function refInvFreq(hd: number, theta: number, scaling: Record<string, unknown> | null): number[] {
  const inv = Array.from({ length: hd / 2 }, (_, i) => 1 / Math.pow(theta, (2 * i) / hd));
  const type = scaling ? (scaling.rope_type ?? scaling.type) : 'default';
  if (type === 'linear') return inv.map((f) => f / (scaling!.factor as number));
  if (type === 'llama3') {
    const factor = scaling!.factor as number;
    const lo = scaling!.low_freq_factor as number;
    const hi = scaling!.high_freq_factor as number;
    const old = scaling!.original_max_position_embeddings as number;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < old / hi) return f;
      if (wavelen > old / lo) return f / factor;
      const smooth = (old / wavelen - lo) / (hi - lo);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  return inv;
}

/** rotate_half form: out[i] = x[i] cos - x[i+h] sin (first half), x[i] cos + x[i-h] sin (second half). */
function rope(x: number[], pos: number, inv: number[]): number[] {
  const h = inv.length;
  const out = new Array<number>(2 * h);
  for (let i = 0; i < h; i++) {
    const c = Math.cos(pos * inv[i]);
    const s = Math.sin(pos * inv[i]);
    out[i] = x[i] * c - x[i + h] * s;
    out[i + h] = x[i + h] * c + x[i] * s;
  }
  return out;
}

/** Logits [T][V] of one sequence under an HF LLaMA/Mistral/Qwen2 config (biases used when the weights have them). */
export function refLlamaLogits(cfg: Record<string, any>, w: Weights, ids: number[]): number[][] {
  const C = cfg.hidden_size as number;
  const H = cfg.num_attention_heads as number;
  const KVH = (cfg.num_key_value_heads ?? H) as number;
  const hd = (cfg.head_dim ?? C / H) as number;
  const eps = (cfg.rms_norm_eps ?? 1e-6) as number;
  const window = cfg.model_type === 'mistral' ? ((cfg.sliding_window ?? null) as number | null) : null;
  const inv = refInvFreq(hd, (cfg.rope_theta ?? 10000) as number, (cfg.rope_scaling ?? null) as Record<string, unknown> | null);
  const E = mat(w, 'model.embed_tokens.weight');
  let hs = ids.map((id) => E[id].slice()); // [T][C]
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const a = `${p}.self_attn`;
    const [Wq, Wk, Wv, Wo] = ['q', 'k', 'v', 'o'].map((n) => mat(w, `${a}.${n}_proj.weight`));
    const [bq, bk, bv, bo] = ['q', 'k', 'v', 'o'].map((n) => vec(w, `${a}.${n}_proj.bias`));
    const xs = hs.map((h) => rms(h, vec(w, `${p}.input_layernorm.weight`)!, eps));
    const split = (v: number[], n: number) => Array.from({ length: n }, (_, i) => v.slice(i * hd, (i + 1) * hd));
    const qs = xs.map((x, t) => split(linear(Wq, x, bq), H).map((q) => rope(q, t, inv)));
    const ks = xs.map((x, t) => split(linear(Wk, x, bk), KVH).map((k) => rope(k, t, inv)));
    const vs = xs.map((x) => split(linear(Wv, x, bv), KVH));
    const outs = qs.map((qt, t) => {
      const heads: number[] = [];
      for (let h = 0; h < H; h++) {
        const kv = Math.floor(h / (H / KVH)); // repeat_kv: consecutive query heads share one kv head
        const visible = Array.from({ length: t + 1 }, (_, j) => j).filter((j) => window === null || t - j < window);
        const sc = visible.map((j) => qt[h].reduce((s, qi, i) => s + qi * ks[j][kv][i], 0) / Math.sqrt(hd));
        const m = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - m));
        const z = e.reduce((s, v) => s + v, 0);
        const o = new Array<number>(hd).fill(0);
        visible.forEach((j, n) => vs[j][kv].forEach((vi, i) => (o[i] += (e[n] / z) * vi)));
        heads.push(...o);
      }
      return linear(Wo, heads, bo);
    });
    hs = hs.map((h, t) => h.map((v, i) => v + outs[t][i]));
    const [Wg, Wu, Wd] = ['gate', 'up', 'down'].map((n) => mat(w, `${p}.mlp.${n}_proj.weight`));
    const [bg, bu, bd] = ['gate', 'up', 'down'].map((n) => vec(w, `${p}.mlp.${n}_proj.bias`));
    hs = hs.map((h) => {
      const x = rms(h, vec(w, `${p}.post_attention_layernorm.weight`)!, eps);
      const g = linear(Wg, x, bg);
      const u = linear(Wu, x, bu);
      const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
      const d = linear(Wd, act, bd);
      return h.map((v, i) => v + d[i]);
    });
  }
  const head = cfg.tie_word_embeddings ? E : mat(w, 'lm_head.weight');
  return hs.map((h) => linear(head, rms(h, vec(w, 'model.norm.weight')!, eps), null));
}

/** Random weights for a config: matrices N(0, std), norms 1 + N(0, 0.1), biases N(0, 0.1). */
export function randomLlamaWeights(cfg: Record<string, any>, seed: number, std = 0.3): Weights {
  const rng = new Rng(seed);
  const C = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const KVH = cfg.num_key_value_heads ?? H;
  const hd = cfg.head_dim ?? C / H;
  const I = cfg.intermediate_size;
  const V = cfg.vocab_size;
  const w: Weights = new Map();
  const put = (name: string, shape: number[], f: () => number) => {
    const n = shape.reduce((a, d) => a * d, 1);
    w.set(name, { shape, data: Float32Array.from({ length: n }, f) });
  };
  const qkvBias = cfg.model_type === 'qwen2' || cfg.attention_bias === true;
  const oBias = cfg.model_type !== 'qwen2' && cfg.attention_bias === true;
  put('model.embed_tokens.weight', [V, C], () => std * rng.normal());
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const lin = (n: string, out: number, inp: number, bias: boolean) => {
      put(`${n}.weight`, [out, inp], () => std * rng.normal());
      if (bias) put(`${n}.bias`, [out], () => 0.1 * rng.normal());
    };
    put(`${p}.input_layernorm.weight`, [C], () => 1 + 0.1 * rng.normal());
    lin(`${p}.self_attn.q_proj`, H * hd, C, qkvBias);
    lin(`${p}.self_attn.k_proj`, KVH * hd, C, qkvBias);
    lin(`${p}.self_attn.v_proj`, KVH * hd, C, qkvBias);
    lin(`${p}.self_attn.o_proj`, C, H * hd, oBias);
    put(`${p}.post_attention_layernorm.weight`, [C], () => 1 + 0.1 * rng.normal());
    lin(`${p}.mlp.gate_proj`, I, C, cfg.mlp_bias === true);
    lin(`${p}.mlp.up_proj`, I, C, cfg.mlp_bias === true);
    lin(`${p}.mlp.down_proj`, C, I, cfg.mlp_bias === true);
  }
  put('model.norm.weight', [C], () => 1 + 0.1 * rng.normal());
  if (!cfg.tie_word_embeddings) put('lm_head.weight', [V, C], () => std * rng.normal());
  return w;
}

function toBf16(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  return (u + 0x7fff + ((u >> 16) & 1)) >>> 16; // round to nearest even
}
function toF16(x: number): number {
  // float32 -> float16 bits, round to nearest (values here are small and normal or zero)
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const e = ((u >>> 23) & 0xff) - 127 + 15;
  let m = u & 0x7fffff;
  if (e <= 0) return sign; // flush tiny values to zero
  if (e >= 31) return sign | 0x7c00;
  let h = sign | (e << 10) | (m >>> 13);
  m &= 0x1fff;
  if (m > 0x1000 || (m === 0x1000 && h & 1)) h++;
  return h;
}

/** Encode tensors as safetensors in F32, BF16 or F16, and return the values a reader will see (rounded). */
export function encodeAs(w: Weights, dtype: 'F32' | 'BF16' | 'F16'): { bytes: Uint8Array; stored: Weights } {
  const names = [...w.keys()].sort();
  const width = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const n of names) {
    const len = w.get(n)!.data.length * width;
    header[n] = { dtype, shape: w.get(n)!.shape, data_offsets: [off, off + len] };
    off += len;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(Buffer.from(json, 'utf8'), 8);
  const stored: Weights = new Map();
  let p = 8 + json.length;
  const tmp = new DataView(new ArrayBuffer(4));
  for (const n of names) {
    const { shape, data } = w.get(n)!;
    const back = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (dtype === 'F32') {
        dv.setFloat32(p, data[i], true);
        back[i] = data[i];
      } else {
        const bits = dtype === 'BF16' ? toBf16(data[i]) : toF16(data[i]);
        dv.setUint16(p, bits, true);
        if (dtype === 'BF16') {
          tmp.setUint32(0, bits << 16, true);
          back[i] = tmp.getFloat32(0, true);
        } else {
          const e = (bits >> 10) & 0x1f;
          const mant = bits & 0x3ff;
          const s = bits & 0x8000 ? -1 : 1;
          back[i] = e === 0 ? s * Math.pow(2, -14) * (mant / 1024) : s * Math.pow(2, e - 15) * (1 + mant / 1024);
        }
      }
      p += width;
    }
    stored.set(n, { shape, data: back });
  }
  return { bytes: out, stored };
}

/** Write an HF folder (config.json + model.safetensors in the given dtype); returns the stored (rounded) weights. */
export function writeCheckpoint(dir: string, cfg: Record<string, unknown>, w: Weights, dtype: 'F32' | 'BF16' | 'F16'): Weights {
  fs.mkdirSync(dir, { recursive: true });
  const { bytes, stored } = encodeAs(w, dtype);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), bytes);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  return stored;
}
