/**
 * Random initialisation of an RWKV6 model, following the official x060 init (RWKV-LM `generate_init_weight` and the
 * TimeMix / ChannelMix constructors): layer-dependent token-shift mixes, decays spread from fast to slow across
 * channels, zigzag bonus u, tiny embedding, orthogonal projections. One simplification: the official zero-initialised
 * projections (att.output, ffn.value, ffn.receptance) get a small orthogonal init (gain 0.1) instead, so every linear
 * carries signal from step 0 and adapter merge/no-op checks on a fresh model are not trivially satisfied.
 * Returns official names and shapes; all draws come from one seeded Rng.
 */
import type { TensorMap } from '../io/safetensors';
import { Rng } from '../util/random';
import { rwkv6BlockLinears, rwkv6TensorShapes, type Rwkv6Config } from './rwkv6-config';

/** A [rows, cols] matrix with orthonormal rows or columns (whichever is fewer) times gain, like torch orthogonal_. */
export function orthogonalInit(rows: number, cols: number, gain: number, rng: Rng): Float32Array {
  const tall = rows >= cols;
  const n = tall ? cols : rows; // number of orthonormal vectors
  const len = tall ? rows : cols; // their length
  const vecs: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = new Float64Array(len);
    for (let j = 0; j < len; j++) v[j] = rng.normal();
    // Modified Gram-Schmidt twice for stability.
    for (let pass = 0; pass < 2; pass++)
      for (const q of vecs) {
        let d = 0;
        for (let j = 0; j < len; j++) d += q[j] * v[j];
        for (let j = 0; j < len; j++) v[j] -= d * q[j];
      }
    let nrm = 0;
    for (let j = 0; j < len; j++) nrm += v[j] * v[j];
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < len; j++) v[j] /= nrm;
    vecs.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < len; j++) {
      if (tall) out[j * cols + i] = gain * vecs[i][j];
      else out[i * cols + j] = gain * vecs[i][j];
    }
  return out;
}

/** Orthogonal gain scale per projection (official; the zero-init ones use 0.1, see the file comment). */
const LINEAR_SCALE: Record<string, number> = {
  'att.receptance': 1,
  'att.key': 0.1,
  'att.value': 1,
  'att.gate': 0.1,
  'att.output': 0.1,
  'ffn.key': 1,
  'ffn.value': 0.1,
  'ffn.receptance': 0.1,
};

/** Random weights for a config: official tensor names and shapes. */
export function initRwkv6Weights(c: Rwkv6Config, seed: number): TensorMap {
  const rng = new Rng(seed);
  const shapes = rwkv6TensorShapes(c);
  const out: TensorMap = new Map();
  const C = c.n_embd;
  const A = c.dim_att;
  const put = (name: string, data: Float32Array) => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`rwkv6 init: unknown tensor ${name}`);
    out.set(name, { shape: shape.slice(), data });
  };
  const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

  put('emb.weight', rng.uniformArray(c.vocab_size * C, -1e-4, 1e-4));
  for (let l = 0; l < c.n_layer; l++) {
    const p = `blocks.${l}`;
    const r01 = c.n_layer > 1 ? l / (c.n_layer - 1) : 0; // 0 to 1 across layers
    const r10 = 1 - l / c.n_layer; // 1 to almost 0
    const ddd = (i: number) => i / C;
    if (l === 0) {
      put(`${p}.ln0.weight`, fill(C, () => 1));
      put(`${p}.ln0.bias`, new Float32Array(C));
    }
    for (const ln of ['ln1', 'ln2']) {
      put(`${p}.${ln}.weight`, fill(C, () => 1));
      put(`${p}.${ln}.bias`, new Float32Array(C));
    }
    // Token-shift mixes: early layers and low channels mix more of the previous token.
    put(`${p}.att.time_maa_x`, fill(C, (i) => 1 - Math.pow(ddd(i), r10)));
    put(`${p}.att.time_maa_w`, fill(C, (i) => 1 - Math.pow(ddd(i), r10)));
    put(`${p}.att.time_maa_k`, fill(C, (i) => 1 - Math.pow(ddd(i), r10)));
    put(`${p}.att.time_maa_v`, fill(C, (i) => 1 - (Math.pow(ddd(i), r10) + 0.3 * r01)));
    put(`${p}.att.time_maa_r`, fill(C, (i) => 1 - Math.pow(ddd(i), 0.5 * r10)));
    put(`${p}.att.time_maa_g`, fill(C, (i) => 1 - Math.pow(ddd(i), 0.5 * r10)));
    // Low-rank ddlerp / decay: tiny first factor (official newer x060 init), small second factor.
    put(`${p}.att.time_maa_w1`, rng.uniformArray(C * 5 * c.d_mix_lora, -1e-4, 1e-4));
    put(`${p}.att.time_maa_w2`, rng.uniformArray(5 * c.d_mix_lora * C, -0.01, 0.01));
    // Decay speed from fast (-6 + ...) to slow across channels: w = exp(-exp(decay)).
    const denomA = Math.max(1, A - 1);
    put(`${p}.att.time_decay`, fill(A, (n) => -6 + 5 * Math.pow(n / denomA, 0.7 + 1.3 * r01)));
    put(`${p}.att.time_decay_w1`, rng.uniformArray(C * c.d_decay_lora, -1e-4, 1e-4));
    put(`${p}.att.time_decay_w2`, rng.uniformArray(c.d_decay_lora * A, -0.01, 0.01));
    put(`${p}.att.time_faaaa`, fill(A, (n) => r01 * (1 - n / denomA) + (((n + 1) % 3) - 1) * 0.1));
    put(`${p}.att.ln_x.weight`, fill(A, () => Math.pow((1 + l) / c.n_layer, 0.7)));
    put(`${p}.att.ln_x.bias`, new Float32Array(A));
    put(`${p}.ffn.time_maa_k`, fill(C, (i) => 1 - Math.pow(ddd(i), r10)));
    put(`${p}.ffn.time_maa_r`, fill(C, (i) => 1 - Math.pow(ddd(i), r10)));
    for (const [name, [o, i]] of Object.entries(rwkv6BlockLinears(c))) {
      const gain = (o > i ? Math.sqrt(o / i) : 1) * LINEAR_SCALE[name];
      put(`${p}.${name}.weight`, orthogonalInit(o, i, gain, rng.fork(`${p}.${name}`)));
    }
  }
  put('ln_out.weight', fill(C, () => 1));
  put('ln_out.bias', new Float32Array(C));
  const headGain = c.vocab_size > C ? 0.5 * Math.sqrt(c.vocab_size / C) : 0.5;
  put('head.weight', orthogonalInit(c.vocab_size, C, headGain, rng.fork('head')));
  for (const name of shapes.keys()) if (!out.has(name)) throw new Error(`rwkv6 init: tensor ${name} was not initialised`);
  return out;
}
