/**
 * The kit's tokenizer for its tiny models: one id per character, written as an HF `tokenizer.json` (a BPE model with
 * no merges, no pre-tokenizer, and a Fuse decoder that concatenates tokens), so it loads in transformers and here
 * alike. Ids: <unk>=0, <s>=1, </s>=2, <pad>=3, then characters in code-point order. Printable ASCII, tab and newline
 * are always in the vocabulary; any other character seen in the corpus is added; anything else encodes to <unk>.
 */
import { tokenizerFromJson, type Tokenizer } from './tokenizer';

export const CHAR_SPECIAL_TOKENS = ['<unk>', '<s>', '</s>', '<pad>'] as const;

/** Always present, so any ASCII text round-trips whatever the corpus was. */
function baseCharacters(): string[] {
  const out = ['\t', '\n', '\r'];
  for (let c = 32; c < 127; c++) out.push(String.fromCharCode(c));
  return out;
}

/**
 * Number tokens: every 2- and 3-digit string ('00'..'999') gets an id and BPE merges that build it from digits
 * (both 'ab c' and 'a bc', so whichever pair merges first completes). With the Digits pre-tokenizer isolating digit
 * runs, a number up to 999 is one token and a longer one a few; everything else stays one token per character.
 */
function numberMerges(): { tokens: string[]; merges: string[] } {
  const tokens = digitStrings().filter((t) => t.length > 1);
  const merges = tokens.flatMap((t) => (t.length === 2 ? [`${t[0]} ${t[1]}`] : [`${t.slice(0, 2)} ${t[2]}`, `${t[0]} ${t.slice(1)}`]));
  return { tokens, merges };
}

export interface CharTokenizerOptions {
  /** Numbers up to 999 as single tokens (see numberMerges); default false (one token per character). */
  numbers?: boolean;
  /**
   * Whole-word tokens: these letter runs, and every 1-3 digit string, are one token each; any other letter run falls
   * back to one token per character (BPE with ignore_merges: a piece found in the vocabulary is taken whole). A
   * digit run is cut into pieces of at most three digits, left to right. Overrides `numbers`.
   */
  words?: string[];
}

/** Every 1-, 2- and 3-digit string ('0'..'9', '00'..'99', '000'..'999'), shortest first. */
function digitStrings(): string[] {
  const out: string[] = [];
  for (let len = 1; len <= 3; len++) for (let n = 0; n < 10 ** len; n++) out.push(String(n).padStart(len, '0'));
  return out;
}

/** Pieces for the word mode: a letter run, up to three digits, or any single character. */
const WORD_PIECES = '[A-Za-z]+|[0-9]{1,3}|[\\s\\S]';

/** The tokenizer.json / tokenizer_config.json contents for a character vocabulary. */
export function charTokenizerFiles(chars: string[], opts: CharTokenizerOptions = {}): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  // A Map, not a plain object: a word such as 'constructor' or 'toString' must not count as already present. Ids are
  // handed out in insertion order (the map's size is the next id); a repeated token keeps its first id.
  const ids = new Map<string, number>();
  const add = (t: string) => {
    if (!ids.has(t)) ids.set(t, ids.size);
  };
  CHAR_SPECIAL_TOKENS.forEach(add);
  chars.forEach(add);
  const words = opts.words;
  const nums = opts.numbers && !words ? numberMerges() : { tokens: [], merges: [] };
  nums.tokens.forEach(add);
  if (words) {
    for (const w of words) if (!/^[A-Za-z]+$/.test(w)) throw new Error(`char tokenizer: word '${w}' is not a run of ASCII letters`);
    [...digitStrings(), ...words].forEach(add);
  }
  const vocab = Object.fromEntries(ids);
  const added = CHAR_SPECIAL_TOKENS.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: words
      ? { type: 'Split', pattern: { Regex: WORD_PIECES }, behavior: 'Isolated', invert: false }
      : opts.numbers
        ? { type: 'Digits', individual_digits: false }
        : null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: !!words,
      vocab,
      merges: nums.merges,
    },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    add_bos_token: false,
    add_eos_token: false,
    // the default (true) rewrites " ." to "." on decode, which would break the exact round trip
    clean_up_tokenization_spaces: false,
    model_max_length: 1000000,
  };
  return { tokenizer, config };
}

/**
 * A character tokenizer for `corpusText`: printable ASCII plus every other character that occurs at least
 * `minCount` times in the corpus (rarer ones become <unk>).
 */
export function buildCharTokenizer(corpusText: string, opts: { minCount?: number } & CharTokenizerOptions = {}): Tokenizer {
  const minCount = opts.minCount ?? 1;
  if (!Number.isInteger(minCount) || minCount < 1) throw new Error(`buildCharTokenizer: minCount must be a positive integer, got ${minCount}`);
  const counts = new Map<string, number>();
  for (const ch of corpusText) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const chars = new Set(baseCharacters());
  for (const [ch, n] of counts) if (n >= minCount) chars.add(ch);
  const sorted = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const { tokenizer, config } = charTokenizerFiles(sorted, { numbers: opts.numbers, words: opts.words });
  return tokenizerFromJson(tokenizer, config, 'char tokenizer');
}

/** Letter runs that occur at least minCount times in text, most frequent first (ties in code-point order). */
export function frequentWords(text: string, minCount = 2): string[] {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/[A-Za-z]+/g)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return [...counts.entries()]
    .filter(([, n]) => n >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w]) => w);
}
