/**
 * Answer extraction from model outputs and gold solutions, and the correctness check used by every evaluation.
 * Explicit markers first: `The answer is: N` (MetaMathQA), `#### N` (GSM8K), `\boxed{...}` (MATH, nested braces);
 * when several occur, the LAST one wins (MATH solutions box intermediate results; MetaMathQA GSM8K responses end
 * with both `#### N` and `The answer is: N`). Without a marker, the last number in the text.
 */
import { matchBrace, normalizeAnswer, parseNumber } from './normalize';

export { normalizeAnswer, parseNumber } from './normalize';

export interface ExtractOptions {
  /** Fall back to the last number in the text when there is no explicit marker (default true). */
  lastNumberFallback?: boolean;
  /** Multiple choice: return a letter A-E (`The answer is (C)`, `answer is C`, else the last `(C)`). */
  choice?: boolean;
}

interface Candidate {
  at: number;
  text: string;
}

/** Content of the last `\boxed{...}` / `\fbox{...}` (nested braces respected), or null. */
export function extractBoxed(text: string): string | null {
  const all = boxedCandidates(text);
  return all.length ? all[all.length - 1].text : null;
}

function boxedCandidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  const re = /\\(?:boxed|fbox)\s*(\{|\s+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[1] === '{') {
      const open = m.index + m[0].length - 1;
      const close = matchBrace(text, open);
      if (close > 0) out.push({ at: m.index, text: text.slice(open + 1, close - 1) });
    } else {
      // `\boxed 5`: the argument is the next token
      const arg = /^[^\s$]+/.exec(text.slice(m.index + m[0].length));
      if (arg) out.push({ at: m.index, text: arg[0] });
    }
  }
  return out;
}

/**
 * Text after `The answer is` (also `the final/correct answer is`, `Answer:`, AQuA's `Answer : C`) up to the end of
 * its line or sentence (`$36.` -> `$36`, `4.5 cm.` -> `4.5 cm`).
 */
function answerIsCandidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  // `the answer is` / `the final answer:` anywhere; a bare `Answer:` only at the start of a line (not `our answer: ...`)
  const re = /(?:\bthe\s+(?:final\s+|correct\s+)?answer\s*(?:is\b|:)|^[ \t]*answer\s*:)\s*:?[ \t]*([^\n]*)/gim;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    let body = m[1];
    const boxed = extractBoxed(body);
    if (boxed !== null) body = boxed;
    else {
      const stop = /\.(?=\s|$)/.exec(body); // a full stop, not a decimal point
      if (stop) body = body.slice(0, stop.index);
    }
    if (body.trim()) out.push({ at: m.index, text: body });
  }
  return out;
}

function hashCandidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  const re = /####[ \t]*([^\n]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) if (m[1].trim()) out.push({ at: m.index, text: m[1] });
  return out;
}

/** Every number in the text (grouped thousands, decimals, simple fractions, signs), in order. */
export function numbersIn(text: string): string[] {
  const re = /(?<![\w.])[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\/\d+)?/g;
  return (text.match(re) ?? []).map((n) => n.replace('\u2212', '-'));
}

function choiceLetter(s: string): string | null {
  const m = /^\s*\(?([A-Ea-e])\)?(?![A-Za-z])/.exec(normalizeAnswer(s)) ?? /\(([A-E])\)/.exec(s);
  return m ? m[1].toUpperCase() : null;
}

/**
 * A choice letter: the last of `The answer is (C)`, `Answer : C`, `Answer C`, `Option C`, `C is the correct option`, or a line
 * holding only the letter (AQuA rationales end in all these forms); else the last `(C)` in the text.
 */
function extractChoice(text: string): string | null {
  const found: Candidate[] = [];
  for (const c of [...answerIsCandidates(text), ...boxedCandidates(text)]) {
    const v = choiceLetter(c.text);
    if (v) found.push({ at: c.at, text: v });
  }
  const patterns = [
    /\b(?:[Aa]nswer|ANSWER|[Oo]ption|OPTION|[Cc]hoice)\s*(?:is\s*)?[:=]?\s*\(?([A-E])\)?(?![A-Za-z])/g,
    /(?:^|\s)\(?([A-E])\)?\s+is\s+the\s+correct/g,
    /^\s*\(?([A-E])\)?\s*\.?\s*$/gm,
  ];
  for (const re of patterns) {
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) found.push({ at: m.index, text: m[1].toUpperCase() });
  }
  if (found.length) return found.sort((a, b) => b.at - a.at)[0].text;
  const all = text.match(/\(([A-E])\)/g);
  return all ? all[all.length - 1][1] : null;
}

/**
 * The normalised answer in `text` (a model output or a gold solution), or null when none is found.
 * @example extractAnswer('She pays 4 * 3 = 12 dollars.\nThe answer is: 12') // '12'
 */
export function extractAnswer(text: string, opts: ExtractOptions = {}): string | null {
  if (opts.choice) return extractChoice(text);
  const marked = [...answerIsCandidates(text), ...hashCandidates(text), ...boxedCandidates(text)].sort((a, b) => b.at - a.at);
  for (const c of marked) {
    const v = normalizeAnswer(c.text);
    if (v) return v;
  }
  if (opts.lastNumberFallback === false) return null;
  const nums = numbersIn(text);
  return nums.length ? normalizeAnswer(nums[nums.length - 1]) : null;
}

export interface CorrectOptions {
  /** Absolute tolerance for numeric answers (default 1e-4, so `0.75` = `3/4` and `0.6666666666666666` = `2/3`). */
  tol?: number;
}

/**
 * Whether a predicted answer matches the gold one: numerically within `tol` when both parse as numbers (`3/4` vs
 * `0.75`, `1,000` vs `1000.0`), as letters for choices, else as normalised strings.
 */
export function isCorrect(pred: string | null | undefined, gold: string, opts: CorrectOptions = {}): boolean {
  if (pred === null || pred === undefined) return false;
  const p = normalizeAnswer(pred);
  const g = normalizeAnswer(gold);
  if (!p) return false;
  if (p === g) return true;
  if (/^[A-E]$/.test(g)) return choiceLetter(p) === g;
  const pn = parseNumber(p);
  const gn = parseNumber(g);
  if (pn !== null && gn !== null) return Math.abs(pn - gn) <= (opts.tol ?? 1e-4);
  return false;
}

/** Cut a generation at the first stop string (e.g. the model starting a new `### Instruction:` block). */
export function cutAtStop(text: string, stops: string[] = ['\n\n### Instruction', '### Instruction:']): string {
  let end = text.length;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
}
