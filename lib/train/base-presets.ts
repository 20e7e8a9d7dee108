/**
 * The kit's own base models: CPU-scale stand-ins for LLaMA2-7B / RWKV6-7B, pretrained here on the generated corpus.
 * Sizes were picked by measurement on one wasm thread: 'tiny' pretrains in about two and a half minutes and fine-tunes
 * at about a quarter of a second per step (batch 8); 'small' is the same recipe at about 4x the parameters.
 */
import { RWKV6_PRESETS } from '../models/rwkv6-config';

export type BaseArch = 'llama' | 'rwkv6';
export type BasePresetName = 'tiny' | 'small';

export interface BasePreset {
  /**
   * Model shape: an HF LlamaConfig (llama) or RWKV6 preset fields (rwkv6), without vocab_size and special token ids,
   * which come from the tokenizer.
   */
  model: Record<string, unknown>;
  /**
   * 'char': one token per character. 'char-numbers': numbers up to 999 as single tokens too. 'words': every corpus
   * word and every 1-3 digit string as one token, other letter runs per character. The last two make copying a number
   * one token and arithmetic a lookup. Measured on the tiny LLaMA (probes: "12 + 7 =", "Count: 17, 18, 19,", and
   * "Hal has 22 rocks. Rob has 9 eggs. So: Hal has"): with 'char-numbers' the base learns to add and count after
   * 1,000 steps, but no variant learns to copy a number from earlier in its context within 1,200 steps, whatever the
   * tokenizer, repeatShare (up to 0.5) or learning rate. After 300 fine-tuning steps, held-out accuracy was 2-4% on
   * a 'char' base pretrained for 1,500 steps and 3-5% on 'char-numbers' bases (360 and 1,000 steps). Neither did a
   * corpus with 40% of its text in recall drills ("Hal has 22 rocks. Kim has 47 pens. So: Kim has 47 pens. ...")
   * teach recall within 1,000 steps, with 'char' or 'words' (0/40 greedy recalls on held-out drills). Content-based
   * recall is data-hungry at this width: from scratch, with 8 key-value pairs over 24 values, the loss on a recalled
   * value falls only from 3.18 (chance) to 1.66 nats in 38k sequences (300 steps of 128). The
   * presets keep 'char', the cheapest.
   */
  tokenizer: 'char' | 'char-numbers' | 'words';
  /**
   * Share of each pretraining batch's rows that repeat a window (lmBatch repeatShare): a dense copying signal. From
   * scratch on random characters the tiny LLaMA learns to copy within 100 steps; on corpus text it learns slowly
   * (repeated-half loss 0.63 against 0.80 plain after 300 steps with every row repeated), so the presets use 0.
   */
  repeatShare: number;
  /** Characters of generated corpus text. */
  corpusChars: number;
  /** Share of corpus characters given to word-problem questions from the train split, without solutions. */
  questionShare: number;
  seqLen: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  /** Fraction of the token stream held out for the validation loss. */
  valFraction: number;
  /** Validation batches scored every evalEvery steps and at the end. */
  evalBatches: number;
  evalEvery: number;
}

const LLAMA_COMMON = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  hidden_act: 'silu',
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  max_position_embeddings: 512,
  tie_word_embeddings: true,
  initializer_range: 0.02,
  attention_bias: false,
  mlp_bias: false,
};

const RECIPE = { tokenizer: 'char' as const, repeatShare: 0, lr: 3e-3, warmupSteps: 20, weightDecay: 0.1, valFraction: 0.02, evalBatches: 4 };

export const BASE_PRESETS: Record<BaseArch, Record<BasePresetName, BasePreset>> = {
  llama: {
    // 208k parameters; about 0.42 s per step on one idle wasm thread, so 360 steps take about 2.5 minutes.
    // Measured (seed 0): held-out loss 4.65 -> 0.78 nats/char; 720 steps would reach 0.60 in twice the time.
    tiny: {
      model: { ...LLAMA_COMMON, hidden_size: 64, intermediate_size: 176, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4 },
      corpusChars: 600_000,
      questionShare: 0.1,
      seqLen: 256,
      batchSize: 8,
      steps: 360,
      evalEvery: 90,
      ...RECIPE,
      lr: 6e-3,
    },
    small: {
      model: { ...LLAMA_COMMON, hidden_size: 128, intermediate_size: 352, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4 },
      corpusChars: 2_000_000,
      questionShare: 0.1,
      seqLen: 256,
      batchSize: 8,
      steps: 600,
      evalEvery: 100,
      ...RECIPE,
    },
  },
  rwkv6: {
    tiny: { model: { ...RWKV6_PRESETS.tiny }, corpusChars: 600_000, questionShare: 0.1, seqLen: 256, batchSize: 8, steps: 240, evalEvery: 80, ...RECIPE },
    small: { model: { ...RWKV6_PRESETS.small }, corpusChars: 2_000_000, questionShare: 0.1, seqLen: 256, batchSize: 8, steps: 600, evalEvery: 100, ...RECIPE },
  },
};

/** A preset by arch and name; errors name the unknown value. */
export function basePreset(arch: string, preset: string): BasePreset {
  const byArch = (BASE_PRESETS as Record<string, Record<string, BasePreset>>)[arch];
  if (!byArch) throw new Error(`base model: unknown arch '${arch}' (known: ${Object.keys(BASE_PRESETS).join(', ')})`);
  const p = byArch[preset];
  if (!p) throw new Error(`base model: unknown preset '${preset}' for ${arch} (known: ${Object.keys(byArch).join(', ')})`);
  return p;
}
