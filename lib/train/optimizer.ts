/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, step for step as torch.optim.AdamW:
 *   p <- p (1 - lr wd);  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 *   p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * tfjs ships Adam but not AdamW. Moments live in non-trainable variables created up front, so the tensor count is
 * constant from the first step on; per-parameter learning-rate scales implement LoRA+.
 */
import * as tf from '@tensorflow/tfjs';

/** One trainable tensor with its stable name and its optimiser group. */
export interface TrainParam {
  /** Stable, unique name (HF module path + PEFT parameter name, e.g. `model.layers.0.self_attn.q_proj.lora_B`). */
  name: string;
  variable: tf.Variable;
  /** Multiplier on the learning rate (LoRA+ ratio for lora_B, else 1). */
  lrScale: number;
  /** Whether weight decay applies (matrices yes; vectors such as norms, biases and DoRA magnitudes no). */
  decay: boolean;
}

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Plain-number snapshot of the optimiser for checkpoints. */
export interface AdamWState {
  /** Number of steps taken (PyTorch's `step`). */
  t: number;
  m: Map<string, { shape: number[]; data: Float32Array }>;
  v: Map<string, { shape: number[]; data: Float32Array }>;
}

export class AdamW {
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly params: TrainParam[],
    readonly cfg: AdamWConfig,
  ) {
    const { beta1, beta2, eps, weightDecay } = cfg;
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`optimizer.beta1: expected a number in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`optimizer.beta2: expected a number in [0, 1), got ${beta2}`);
    if (!(eps > 0)) throw new Error(`optimizer.eps: expected a number > 0, got ${eps}`);
    if (!(weightDecay >= 0)) throw new Error(`optimizer.weightDecay: expected a number >= 0, got ${weightDecay}`);
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new Error(`AdamW: parameter name '${p.name}' appears twice`);
      seen.add(p.name);
      if (!(p.lrScale > 0)) throw new Error(`AdamW: parameter '${p.name}' has lrScale ${p.lrScale} (must be > 0)`);
      // tidy disposes the zeros but never variables.
      tf.tidy(() => {
        this.m.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
        this.v.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
      });
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /**
   * One update with learning rate `lr` from gradients keyed by parameter name. A parameter with no gradient (not
   * connected to the loss) is left untouched, as PyTorch skips parameters whose .grad is None.
   */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.cfg;
    const bc1 = 1 - Math.pow(b1, this.t);
    const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, this.t));
    for (const p of this.params) {
      const g = grads[p.name];
      if (!g) continue;
      const plr = lr * p.lrScale;
      const m = this.m.get(p.name)!;
      const v = this.v.get(p.name)!;
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBc2), eps);
        const upd = tf.mul(tf.div(mNew, denom), plr / bc1);
        const decayed = p.decay && wd > 0 ? tf.mul(p.variable, 1 - plr * wd) : p.variable;
        m.assign(mNew);
        v.assign(vNew);
        p.variable.assign(tf.sub(decayed, upd));
      });
    }
  }

  /** Copy of the moments and step count (host memory). */
  getState(): AdamWState {
    const snap = (vars: Map<string, tf.Variable>) =>
      new Map([...vars].map(([k, x]) => [k, { shape: x.shape.slice(), data: x.dataSync() as Float32Array }]));
    return { t: this.t, m: snap(this.m), v: snap(this.v) };
  }

  /** Restore moments and step count; every parameter must be present with its exact shape. */
  setState(s: AdamWState): void {
    if (!Number.isInteger(s.t) || s.t < 0) throw new Error(`AdamW state: step count must be an integer >= 0, got ${s.t}`);
    for (const [which, src, dst] of [['m', s.m, this.m], ['v', s.v, this.v]] as const) {
      for (const [name, x] of dst) {
        const got = src.get(name);
        if (!got) throw new Error(`AdamW state: missing ${which} for parameter '${name}'`);
        if (got.shape.join(',') !== x.shape.join(','))
          throw new Error(`AdamW state: ${which} for '${name}' has shape [${got.shape}], parameter has [${x.shape}]`);
      }
      for (const name of src.keys()) if (!dst.has(name)) throw new Error(`AdamW state: ${which} has unknown parameter '${name}'`);
    }
    for (const [src, dst] of [[s.m, this.m], [s.v, this.v]] as const) {
      for (const [name, x] of dst) tf.tidy(() => x.assign(tf.tensor(src.get(name)!.data, x.shape)));
    }
    this.t = s.t;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
