/**
 * Test helpers for RWKV6: a tiny config, randomised weights that make every path matter, and a plain float64
 * token-by-token (RNN-form) implementation of the official x060 forward to check the TensorFlow.js model against.
 */
import type { TensorMap } from '../../lib/io/safetensors';
import { rwkv6Defaults, type Rwkv6Config } from '../../lib/models/rwkv6-config';
import { initRwkv6Weights } from '../../lib/models/rwkv6-init';
import { Rng } from '../../lib/util/random';

/** C=16, 2 layers, 2 heads of 8, vocab 23. */
export function tinyConfig(over: Partial<Rwkv6Config> = {}): Rwkv6Config {
  return rwkv6Defaults({ vocab_size: 23, n_embd: 16, n_layer: 2, dim_att: 16, dim_ffn: 32, head_size: 8, d_mix_lora: 4, d_decay_lora: 8, ...over });
}

/**
 * Official-style init plus noise on every tensor, so the ddlerp and decay LoRAs, norms' affine parts and the bonus
 * all change the output (at the plain init several of them are ~1e-4 and would hide a wiring bug).
 */
export function randomWeights(cfg: Rwkv6Config, seed: number): TensorMap {
  const w = initRwkv6Weights(cfg, seed);
  const rng = new Rng(seed + 1000);
  for (const [name, t] of w) {
    const scale = name === 'emb.weight' ? 1 : /time_maa_w[12]|time_decay_w[12]/.test(name) ? 0.5 : 0.2;
    for (let i = 0; i < t.data.length; i++) t.data[i] += scale * rng.normal();
  }
  return w;
}

type Vec = Float64Array;

function get(w: TensorMap, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`ref: missing ${name}`);
  return t.data;
}

/** y = W x for W [out, in] row-major. */
function matVec(W: Float32Array, x: Vec, out: number): Vec {
  const inn = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inn; i++) s += W[o * inn + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** y = x M for M [in, out] row-major (the time_maa / time_decay LoRA layout). */
function vecMat(x: Vec, M: Float32Array, out: number, offset = 0): Vec {
  const y = new Float64Array(out);
  for (let i = 0; i < x.length; i++) for (let o = 0; o < out; o++) y[o] += x[i] * M[offset + i * out + o];
  return y;
}

function layerNorm(x: Vec, w: Float32Array, b: Float32Array, eps: number, off = 0, n = x.length): Vec {
  const y = new Float64Array(x.length);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[off + i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[off + i] - mean) ** 2;
  v /= n;
  for (let i = 0; i < n; i++) y[off + i] = ((x[off + i] - mean) / Math.sqrt(v + eps)) * w[off + i] + b[off + i];
  return y;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Logits [T][V] for one sequence, token by token with the recurrent state, all in float64. */
export function refForward(cfg: Rwkv6Config, w: TensorMap, ids: number[]): number[][] {
  const C = cfg.n_embd;
  const A = cfg.dim_att;
  const N = cfg.head_size;
  const H = A / N;
  const D = cfg.d_mix_lora;
  const Dd = cfg.d_decay_lora;
  const F = cfg.dim_ffn;
  const eps = cfg.layer_norm_epsilon;
  const lnxEps = 1e-5 * cfg.head_size_divisor ** 2;
  const attX: Vec[] = Array.from({ length: cfg.n_layer }, () => new Float64Array(C));
  const ffnX: Vec[] = Array.from({ length: cfg.n_layer }, () => new Float64Array(C));
  const S = Array.from({ length: cfg.n_layer }, () => new Float64Array(H * N * N));
  const out: number[][] = [];
  const emb = get(w, 'emb.weight');
  for (const id of ids) {
    let x: Vec = Float64Array.from(emb.subarray(id * C, (id + 1) * C));
    for (let l = 0; l < cfg.n_layer; l++) {
      const p = (n: string) => get(w, `blocks.${l}.${n}`);
      if (l === 0) x = layerNorm(x, p('ln0.weight'), p('ln0.bias'), eps);
      // Time mix.
      const xa = layerNorm(x, p('ln1.weight'), p('ln1.bias'), eps);
      const sx = xa.map((v, i) => attX[l][i] - v);
      const xxx = xa.map((v, i) => v + sx[i] * p('att.time_maa_x')[i]);
      const m = vecMat(xxx, p('att.time_maa_w1'), 5 * D).map(Math.tanh);
      const mix = (j: number, name: string) => {
        const delta = vecMat(m.subarray(j * D, (j + 1) * D), p('att.time_maa_w2'), C, j * D * C);
        return xa.map((v, i) => v + sx[i] * (p(`att.time_maa_${name}`)[i] + delta[i]));
      };
      const [xw, xk, xv, xr, xg] = [mix(0, 'w'), mix(1, 'k'), mix(2, 'v'), mix(3, 'r'), mix(4, 'g')];
      const r = matVec(p('att.receptance.weight'), xr, A);
      const k = matVec(p('att.key.weight'), xk, A);
      const v = matVec(p('att.value.weight'), xv, A);
      const g = matVec(p('att.gate.weight'), xg, A).map((z) => z * sigmoid(z));
      const ww = vecMat(vecMat(xw, p('att.time_decay_w1'), Dd).map(Math.tanh), p('att.time_decay_w2'), A);
      const decay = ww.map((z, i) => Math.exp(-Math.exp(p('att.time_decay')[i] + z)));
      const u = p('att.time_faaaa');
      const y = new Float64Array(A);
      const St = S[l];
      for (let h = 0; h < H; h++) {
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let i = 0; i < N; i++) {
            const a = h * N + i;
            acc += r[a] * (u[a] * k[a] * v[h * N + j] + St[(h * N + i) * N + j]);
          }
          y[h * N + j] = acc;
        }
        for (let i = 0; i < N; i++)
          for (let j = 0; j < N; j++) {
            const si = (h * N + i) * N + j;
            St[si] = decay[h * N + i] * St[si] + k[h * N + i] * v[h * N + j];
          }
      }
      let yn = new Float64Array(A);
      for (let h = 0; h < H; h++) {
        const part = layerNorm(y, p('att.ln_x.weight'), p('att.ln_x.bias'), lnxEps, h * N, N);
        for (let i = 0; i < N; i++) yn[h * N + i] = part[h * N + i];
      }
      yn = yn.map((z, i) => z * g[i]);
      const att = matVec(p('att.output.weight'), yn, C);
      x = x.map((z, i) => z + att[i]);
      attX[l] = xa;
      // Channel mix.
      const xf = layerNorm(x, p('ln2.weight'), p('ln2.bias'), eps);
      const sf = xf.map((z, i) => ffnX[l][i] - z);
      const fk = xf.map((z, i) => z + sf[i] * p('ffn.time_maa_k')[i]);
      const fr = xf.map((z, i) => z + sf[i] * p('ffn.time_maa_r')[i]);
      const kk = matVec(p('ffn.key.weight'), fk, F).map((z) => Math.max(z, 0) ** 2);
      const kv = matVec(p('ffn.value.weight'), kk, C);
      const rr = matVec(p('ffn.receptance.weight'), fr, C).map(sigmoid);
      x = x.map((z, i) => z + rr[i] * kv[i]);
      ffnX[l] = xf;
    }
    const xo = layerNorm(x, get(w, 'ln_out.weight'), get(w, 'ln_out.bias'), eps);
    out.push(Array.from(matVec(get(w, 'head.weight'), xo, cfg.vocab_size)));
  }
  return out;
}
