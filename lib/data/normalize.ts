/**
 * Answer normalisation: one canonical string per answer, so gold answers from GSM8K (`1,000`), LLM-Adapters (`4.0`),
 * SVAMP (`51.0`), AQuA (`C`), MATH (`\dfrac{9}{7}`) and model outputs (`$18.00`, `19 pears`) compare equal when they
 * mean the same thing. The LaTeX clean-up follows the usual MATH answer conventions (strip `\left`/`\right`, units in
 * `\text{}`, degree signs, `\dfrac` -> `\frac`, `\frac12` -> `\frac{1}{2}`).
 */

/** Words that may follow a numeric answer and are dropped (`19 pears`, `5 dollars`, `3 cm`): any run of letters. */
const NUMBER_THEN_WORDS = /^([-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:\/\d+)?)\s+[A-Za-z][A-Za-z.'\s-]*$/;
const GROUPED_THOUSANDS = /^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const PLAIN_NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Index just past the `}` that closes the `{` at `open`, or -1 when unbalanced. */
export function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++; // `\{` and `\}` are literal braces, not grouping
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Replace `\cmd{X}` by X (nested braces respected). */
function unwrapCommand(s: string, cmd: string): string {
  let out = s;
  for (;;) {
    const at = out.indexOf(`\\${cmd}{`);
    if (at < 0) return out;
    const open = at + cmd.length + 1;
    const close = matchBrace(out, open);
    if (close < 0) return out;
    out = out.slice(0, at) + out.slice(open + 1, close - 1) + out.slice(close);
  }
}

/** `\frac12` -> `\frac{1}{2}`, `\frac1{2}` -> `\frac{1}{2}`, `\sqrt2` -> `\sqrt{2}`. */
function braceShorthand(s: string): string {
  return s
    .replace(/\\frac(\d)(\d)/g, '\\frac{$1}{$2}')
    .replace(/\\frac(\d)\{/g, '\\frac{$1}{')
    .replace(/\\frac\{([^{}]*)\}(\d)/g, '\\frac{$1}{$2}')
    .replace(/\\sqrt(\d+)/g, '\\sqrt{$1}');
}

/** Canonical number text: no grouping commas, no `+`, no trailing zeros (`18.00` -> `18`), `.5` -> `0.5`, `-0` -> `0`. */
function canonicalNumber(s: string): string {
  let t = s.replace(/,/g, '').replace(/^\+/, '');
  if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
  if (t.startsWith('.')) t = `0${t}`;
  if (t.startsWith('-.')) t = `-0${t.slice(1)}`;
  if (/^-0*$/.test(t) || /^0+$/.test(t)) return '0';
  return t.replace(/^(-?)0+(?=\d)/, '$1');
}

/**
 * Normalise an answer string (gold or predicted) to its canonical form. Numbers become plain decimals (`$1,000.00`
 * -> `1000`, `50%` -> `50`, `-3.50` -> `-3.5`), a choice `(C)` becomes `C`, LaTeX loses spacing and cosmetic commands.
 * Fractions stay fractions (`3/4`, `\frac{3}{4}`): `isCorrect` compares them numerically.
 */
export function normalizeAnswer(raw: string): string {
  let s = String(raw).trim();
  s = s.replace(/[\u2212\u2013\u2014]/g, '-'); // unicode minus and dashes
  s = s.replace(/\\\$/g, '').replace(/\$/g, ''); // currency signs and math delimiters
  s = s.replace(/\\(?:left|right|displaystyle)(?![A-Za-z])/g, '').replace(/\\[!,;:]/g, '').replace(/\\ /g, ' ');
  s = s.replace(/\^\s*\{?\\circ\}?/g, '').replace(/\\circ/g, '').replace(/\\?%/g, '');
  s = s.replace(/\\[dt]frac/g, '\\frac');
  // units: a trailing \text{...}/\mbox{...} after some content is a unit (`10\text{ cm}`), not the answer itself
  const unit = /^(.+?)\s*\\(?:text|mbox|mathrm)\{\s*[A-Za-z][A-Za-z\s.^{}0-9]*\}\s*$/.exec(s);
  if (unit && /[\d}]$/.test(unit[1].trim())) s = unit[1];
  for (const cmd of ['text', 'textbf', 'mbox', 'mathrm', 'boxed']) s = unwrapCommand(s, cmd);
  s = braceShorthand(s);
  s = s.trim().replace(/[.\s]+$/, ''); // sentence full stop
  const eq = /^[A-Za-z]\s*=\s*(.+)$/.exec(s); // `x = 5` -> `5`
  if (eq) s = eq[1].trim();
  const words = NUMBER_THEN_WORDS.exec(s);
  if (words) s = words[1];
  const choice = /^\(([A-Ea-e])\)$/.exec(s) ?? /^([A-E])\)$/.exec(s);
  if (choice) return choice[1].toUpperCase();
  if (GROUPED_THOUSANDS.test(s) || PLAIN_NUMBER.test(s)) return canonicalNumber(s);
  const frac = /^([-+]?\d+)\s*\/\s*(\d+)$/.exec(s);
  if (frac) return `${canonicalNumber(frac[1])}/${frac[2]}`;
  return s.replace(/\s+/g, '');
}

/**
 * The numeric value of an answer, or null if it is not a plain number: integers, decimals, `a/b`, `\frac{a}{b}`,
 * `-\frac{a}{b}`, after `normalizeAnswer` (so `$1,000`, `50%` and `3.0 apples` parse).
 */
export function parseNumber(raw: string): number | null {
  const s = normalizeAnswer(raw);
  if (PLAIN_NUMBER.test(s)) return Number(s);
  const frac = /^([-+]?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(s);
  if (frac) return ratio(Number(frac[1]), Number(frac[2]));
  const tex = /^([-+]?)\\frac\{([-+]?\d+(?:\.\d+)?)\}\{([-+]?\d+(?:\.\d+)?)\}$/.exec(s);
  if (tex) {
    const v = ratio(Number(tex[2]), Number(tex[3]));
    return v === null ? null : tex[1] === '-' ? -v : v;
  }
  return null;
}

function ratio(a: number, b: number): number | null {
  return b === 0 || !Number.isFinite(a / b) ? null : a / b;
}
