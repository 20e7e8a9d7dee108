/**
 * Tokenising supervised examples: [BOS] prompt response suffix EOS, labels IGNORE_INDEX on BOS + prompt (loss on the
 * response and EOS only), cut to maxLength. The prompt and the target are encoded separately and concatenated, so the
 * prompt ids seen in training are exactly the ids given to `generate` at evaluation and the mask boundary is exact.
 */
import { formatPrompt, formatTarget, resolveTemplate, type PromptTemplate } from './prompt';
import { IGNORE_INDEX, type EncodedExample, type MathExample, type TokenizerLike } from './types';

export type OverflowPolicy = 'truncate' | 'drop' | 'error';

export interface EncodeOptions {
  /** Longest sequence in tokens (BOS, prompt, response, EOS included). */
  maxLength: number;
  /** Prompt template (default: the paper's Alpaca format). */
  template?: PromptTemplate | string;
  /** Too-long examples: cut to maxLength (HF `truncation=True`, default), drop them, or throw. */
  overflow?: OverflowPolicy;
}

export function assertPositiveInt(v: unknown, what: string, min = 1): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
}

function checkIds(ids: number[], what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (!Number.isInteger(t) || t < 0) throw new Error(`${what}: tokenizer returned invalid id ${String(t)} at position ${i}`);
  }
}

function checkTokenizer(tok: TokenizerLike): void {
  if (!tok || typeof tok.encode !== 'function') throw new Error('tokenizer: needs an encode(text) method');
  for (const k of ['eosId', 'padId'] as const) {
    if (!Number.isInteger(tok[k]) || tok[k] < 0) throw new Error(`tokenizer.${k} must be a non-negative integer, got ${String(tok[k])}`);
  }
  if (tok.bosId !== undefined && tok.bosId !== null && (!Number.isInteger(tok.bosId) || tok.bosId < 0)) {
    throw new Error(`tokenizer.bosId must be a non-negative integer or null, got ${String(tok.bosId)}`);
  }
}

/** Prompt ids for generation: [BOS] + prompt. */
export function encodePrompt(question: string, tok: TokenizerLike, template?: PromptTemplate | string): number[] {
  checkTokenizer(tok);
  const ids = tok.encode(formatPrompt(question, template));
  checkIds(ids, 'prompt');
  return tok.bosId !== undefined && tok.bosId !== null ? [tok.bosId, ...ids] : ids;
}

/** One supervised example, or null when it is too long and overflow is 'drop'. */
export function encodeExample(
  id: string,
  question: string,
  solution: string,
  tok: TokenizerLike,
  opts: EncodeOptions,
): EncodedExample | null {
  assertPositiveInt(opts.maxLength, 'encode: maxLength', 2);
  if (typeof question !== 'string' || typeof solution !== 'string') {
    throw new Error(`encode: example '${id}' needs string question and solution`);
  }
  const prompt = encodePrompt(question, tok, opts.template);
  const target = tok.encode(formatTarget(solution, opts.template));
  checkIds(target, `example '${id}' target`);
  const full = [...prompt, ...target, tok.eosId];
  const overflow = opts.overflow ?? 'truncate';
  const truncated = full.length > opts.maxLength;
  if (truncated && overflow === 'drop') return null;
  if (truncated && overflow === 'error') {
    throw new Error(`encode: example '${id}' is ${full.length} tokens, over maxLength=${opts.maxLength}`);
  }
  const T = Math.min(full.length, opts.maxLength);
  const inputIds = Int32Array.from(full.slice(0, T));
  const labels = Int32Array.from(full.slice(0, T));
  const promptLength = Math.min(prompt.length, T);
  labels.fill(IGNORE_INDEX, 0, promptLength);
  return { id, inputIds, labels, promptLength, truncated };
}

export interface EncodeStats {
  total: number;
  truncated: number;
  dropped: number;
  /** Examples skipped because the prompt alone fills maxLength (no response token left to learn). */
  noLoss: number;
  maxTokens: number;
  meanTokens: number;
}

/**
 * Encode many examples (each must have a solution). Returns the encoded list (dropped and no-loss examples left out)
 * and counts of what overflowed.
 */
export function encodeExamples(
  examples: MathExample[],
  tok: TokenizerLike,
  opts: EncodeOptions,
): { encoded: EncodedExample[]; stats: EncodeStats } {
  resolveTemplate(opts.template);
  const encoded: EncodedExample[] = [];
  const stats: EncodeStats = { total: examples.length, truncated: 0, dropped: 0, noLoss: 0, maxTokens: 0, meanTokens: 0 };
  let sum = 0;
  for (const ex of examples) {
    if (typeof ex.solution !== 'string') throw new Error(`encode: example '${ex.id}' has no solution to train on`);
    const e = encodeExample(ex.id, ex.question, ex.solution, tok, opts);
    if (e === null) {
      stats.dropped++;
      continue;
    }
    if (e.truncated) stats.truncated++;
    if (e.promptLength >= e.inputIds.length) {
      stats.noLoss++; // nothing to learn, and an all-ignored batch would make the mean loss 0/0
      continue;
    }
    stats.maxTokens = Math.max(stats.maxTokens, e.inputIds.length);
    sum += e.inputIds.length;
    encoded.push(e);
  }
  stats.meanTokens = encoded.length ? sum / encoded.length : 0;
  return { encoded, stats };
}
