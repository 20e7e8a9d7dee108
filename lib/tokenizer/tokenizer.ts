/**
 * Tokenizers in HF format: a folder with `tokenizer.json` and `tokenizer_config.json` (bos/eos/pad/unk; the chat
 * template is ignored), run by @huggingface/tokenizers (pure JS). The kit's own char-level tokenizer (char.ts) is
 * saved in the same format and loaded back through the same path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { readJson, writeJsonAtomic } from '../util/fs';

export interface Tokenizer {
  /** Number of ids (the largest id + 1, added tokens included): the model's vocab_size must be at least this. */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  /** The pad token, or the eos token when the tokenizer has none (as HF fine-tuning scripts set it). */
  readonly padId: number;
  readonly unkId: number | null;
  /** Text to ids; special tokens (e.g. a BOS from the post-processor) only with addSpecialTokens. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** The two HF files, as saved by saveTokenizer. */
  readonly files: { tokenizer: Record<string, unknown>; config: Record<string, unknown> };
}

/** A special token in tokenizer_config.json: a string, or a serialised AddedToken ({content, ...}). */
function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

class HfBackedTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number | null;
  private readonly tok: HfTokenizer;

  constructor(
    readonly files: { tokenizer: Record<string, unknown>; config: Record<string, unknown> },
    where: string,
  ) {
    try {
      this.tok = new HfTokenizer(files.tokenizer, files.config);
    } catch (e) {
      throw new Error(`${where}: cannot build the tokenizer (${(e as Error).message})`);
    }
    const vocab = this.tok.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const special = (key: string): number | null => {
      const content = tokenContent(files.config[key]);
      if (content === null) return null;
      const id = this.tok.token_to_id(content);
      if (id === undefined) throw new Error(`${where}: tokenizer_config.json ${key} '${content}' is not in the vocabulary`);
      return id;
    };
    const modelUnk = (files.tokenizer.model as { unk_token?: unknown } | undefined)?.unk_token;
    this.bosId = special('bos_token');
    const eos = special('eos_token');
    if (eos === null) throw new Error(`${where}: tokenizer_config.json has no eos_token (a causal LM needs one to stop generation)`);
    this.eosId = eos;
    this.padId = special('pad_token') ?? eos;
    this.unkId = special('unk_token') ?? (typeof modelUnk === 'string' ? this.tok.token_to_id(modelUnk) ?? null : null);
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    if (typeof text !== 'string') throw new Error(`tokenizer encode: expected a string, got ${typeof text}`);
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    for (let i = 0; i < ids.length; i++)
      if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= this.vocabSize)
        throw new Error(`tokenizer decode: id ${ids[i]} at position ${i} is out of range [0, ${this.vocabSize})`);
    if (ids.length === 0) return ''; // the library rejects an empty list
    return this.tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }
}

/** A tokenizer from the contents of tokenizer.json and tokenizer_config.json. */
export function tokenizerFromJson(tokenizer: Record<string, unknown>, config: Record<string, unknown>, where = 'tokenizer'): Tokenizer {
  return new HfBackedTokenizer({ tokenizer, config }, where);
}

/** Load a tokenizer folder (tokenizer.json + tokenizer_config.json). */
export function loadTokenizer(dir: string): Tokenizer {
  const tj = path.join(dir, 'tokenizer.json');
  const tc = path.join(dir, 'tokenizer_config.json');
  if (!fs.existsSync(tj)) throw new Error(`${dir}: no tokenizer.json (only HF fast-tokenizer files are supported)`);
  if (!fs.existsSync(tc)) throw new Error(`${dir}: no tokenizer_config.json (it names the bos/eos/pad tokens)`);
  return tokenizerFromJson(readJson<Record<string, unknown>>(tj), readJson<Record<string, unknown>>(tc), dir);
}

/** Save a tokenizer as tokenizer.json + tokenizer_config.json (e.g. beside a model's config.json). */
export function saveTokenizer(tok: Tokenizer, dir: string): void {
  writeJsonAtomic(path.join(dir, 'tokenizer.json'), tok.files.tokenizer);
  writeJsonAtomic(path.join(dir, 'tokenizer_config.json'), tok.files.config);
}
