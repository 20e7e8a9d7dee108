/**
 * Shared data shapes: the record every math loader and generator returns, the minimal tokenizer the batcher needs,
 * and the batches it produces (HF convention: labels aligned with inputs, the model shifts; -100 = no loss).
 */

/** Label value that contributes no loss (PyTorch / HF `IGNORE_INDEX`). */
export const IGNORE_INDEX = -100;

/** One problem from a loader or generator. */
export interface MathExample {
  /** Stable id: `<dataset>-<split>-<index>` for files, `wp-<split>-<index>` for generated problems. */
  id: string;
  /** The problem text given to the model (the `{instruction}` of the prompt). */
  question: string;
  /** Gold answer, normalised with `normalizeAnswer` (a number like `18` or `0.75`, a letter `C`, or LaTeX for MATH). */
  answer: string;
  /** Step-by-step solution used as the SFT target, when the source has one. */
  solution?: string;
  /** Multiple-choice option texts in order A, B, C... (AQuA, and LLM-Adapters' AQuA-style records). */
  choices?: string[];
  /** Source-specific extras (MATH level/type, SVAMP equation, generator templates...). */
  meta?: Record<string, string | number | boolean>;
}

/** The only tokenizer surface the data pipeline uses (the kit's tokenizers satisfy it). */
export interface TokenizerLike {
  /** Text to ids, without special tokens. */
  encode(text: string): number[];
  eosId: number;
  /** Prepended to every sequence when set (LLaMA-style BOS). */
  bosId?: number | null;
  padId: number;
}

/** A tokenised training example: ids and aligned labels (IGNORE_INDEX on the prompt). */
export interface EncodedExample {
  id: string;
  inputIds: Int32Array;
  labels: Int32Array;
  /** Number of leading prompt positions (BOS + prompt), whose labels are IGNORE_INDEX. */
  promptLength: number;
  /** True when the sequence was cut to maxLength (the EOS and maybe part of the response are missing). */
  truncated: boolean;
}

/** A padded batch, row-major [B, T]. */
export interface Batch {
  inputIds: Int32Array;
  labels: Int32Array;
  shape: [number, number];
  /** Ids of the examples in the batch, row by row (packed rows hold several). */
  exampleIds: string[][];
  /**
   * Per position: 0 for padding, else 1 + the index of the example inside its row. Packed rows need it to stop
   * attention across examples; an unpacked row is 1 on real tokens and 0 on padding.
   */
  segmentIds: Int32Array;
}
