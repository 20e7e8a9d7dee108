/**
 * A tiny causal LM for trainer tests: embedding -> h + proj(h) -> lm_head, with the HF-shifted masked cross-entropy.
 * Small enough that a step takes a millisecond, real enough that the trainer sees named variables and linears.
 */
import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX, type Batch } from '../../lib/data/types';
import { createLinear, type LinearLayer } from '../../lib/models/linear';
import type { CausalLM, Linear } from '../../lib/models/types';
import { Rng } from '../../lib/util/random';
import { matMulFast } from '../../lib/ops/linear';
import { collectTrainable } from '../../lib/models/trainable';

export class ToyLM implements CausalLM {
  readonly arch = 'llama' as const;
  readonly config: Record<string, unknown>;
  readonly embed: tf.Variable<tf.Rank.R2>;
  readonly proj: LinearLayer;
  readonly head: LinearLayer;
  /** Tensors leaked on purpose by each loss() call (to test the trainer's leak check). */
  leakPerCall = 0;

  constructor(readonly vocabSize: number, readonly hidden: number, seed: number) {
    this.config = { model_type: 'toy', vocab_size: vocabSize, hidden_size: hidden };
    const rng = new Rng(seed);
    const t = (shape: [number, number], std: number) => tf.tensor2d(rng.normalArray(shape[0] * shape[1], std), shape);
    this.embed = tf.tidy(() => tf.variable(t([vocabSize, hidden], 0.5), true)) as tf.Variable<tf.Rank.R2>;
    const w1 = t([hidden, hidden], 0.3);
    const w2 = t([vocabSize, hidden], 0.3);
    this.proj = createLinear('model.proj', w1);
    this.head = createLinear('lm_head', w2);
    tf.dispose([w1, w2]);
    this.proj.weight.trainable = true;
  }

  logits(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      // one-hot x table: tf.gather's gradient (UnsortedSegmentSum) has no wasm kernel
      const h = matMulFast(tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, this.vocabSize) as tf.Tensor2D, this.embed); // [B*T, C]
      const h2 = tf.add(h, tf.tanh(this.proj.apply(h))) as tf.Tensor2D; // [B*T, C]
      return tf.reshape(this.head.apply(h2), [B, T, this.vocabSize]) as tf.Tensor3D; // [B, T, V]
    });
  }

  loss(ids: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
    for (let i = 0; i < this.leakPerCall; i++) tf.keep(tf.scalar(i));
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      const lg = tf.reshape(tf.slice(this.logits(ids), [0, 0, 0], [B, T - 1, this.vocabSize]), [B * (T - 1), this.vocabSize]); // [N, V]
      const y = tf.reshape(tf.slice(labels, [0, 1], [B, T - 1]), [-1]); // [N]
      const mask = tf.cast(tf.notEqual(y, IGNORE_INDEX), 'float32'); // [N]
      const safe = tf.where(tf.equal(y, IGNORE_INDEX), tf.zerosLike(y), y);
      const logp = tf.logSoftmax(lg); // [N, V]
      const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, this.vocabSize)), 1); // [N]
      return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
    });
  }

  linears(): Map<string, Linear> {
    return new Map<string, Linear>([
      ['model.proj', this.proj],
      ['lm_head', this.head],
    ]);
  }

  parameters(): Map<string, tf.Variable> {
    return new Map<string, tf.Variable>([
      ['model.embed.weight', this.embed],
      ['model.proj.weight', this.proj.weight],
      ['lm_head.weight', this.head.weight],
    ]);
  }

  trainableVariables(): tf.Variable[] {
    return collectTrainable(this.parameters().values(), this.linears().values());
  }

  async generate(prompt: number[], maxNewTokens: number, eosTokenId?: number): Promise<number[]> {
    const out: number[] = [];
    const seq = [...prompt];
    for (let i = 0; i < maxNewTokens; i++) {
      const next = tf.tidy(() => {
        const lg = this.logits(tf.tensor2d([seq], [1, seq.length], 'int32'));
        return tf.argMax(tf.reshape(tf.slice(lg, [0, seq.length - 1, 0], [1, 1, this.vocabSize]), [-1]));
      });
      const id = next.dataSync()[0];
      next.dispose();
      if (id === eosTokenId) break;
      out.push(id);
      seq.push(id);
    }
    return out;
  }

  dispose(): void {
    this.embed.dispose();
    this.proj.dispose();
    this.head.dispose();
  }
}

/** A random batch [B, T]: labels equal the ids except the first `promptLen` positions (ignored). */
export function toyBatch(seed: number, B: number, T: number, V: number, promptLen = 2): Batch {
  const rng = new Rng(seed);
  const inputIds = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) inputIds[i] = rng.int(V);
  const labels = Int32Array.from(inputIds);
  for (let b = 0; b < B; b++) labels.fill(IGNORE_INDEX, b * T, b * T + promptLen);
  return { inputIds, labels, shape: [B, T], exampleIds: Array.from({ length: B }, (_, b) => [`toy-${seed}-${b}`]), segmentIds: new Int32Array(B * T).fill(1) };
}

