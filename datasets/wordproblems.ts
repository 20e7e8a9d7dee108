/**
 * The kit's MetaMathQA stand-in: short grade-school word problems with step-by-step solutions ending
 * `The answer is: N`, generated from the templates in wordproblem-templates.ts (12 openers, 10 continuers).
 *
 * Train and eval never share a problem: each (templates, numbers) tuple is assigned to one split by a fixed hash, so
 * eval problems use number combinations training never shows for those templates, and HELD_OUT_PAIRS of templates
 * appear only in eval. Problem i depends only on (seed, split, i), so a larger n extends a smaller one.
 */
import { deriveSeed, Rng } from '../lib/util/random';
import type { MathExample } from '../lib/data/types';
import { pick } from './lexicon';
import { allPairs, drawScene, CONTINUERS, HELD_OUT_PAIRS, OPENERS, type Continuer, type Opener } from './wordproblem-templates';

export type WordProblemSplit = 'train' | 'eval';

/** How a problem relates to the training distribution. */
export type Novelty = 'seen' | 'new-numbers' | 'new-combination';

export interface WordProblemOptions {
  seed: number;
  n: number;
  split: WordProblemSplit;
  /**
   * Share of one-step, seen-pair and held-out-pair problems (normalised). Defaults: train {single 0.3, pair 0.7};
   * eval {single 0.2, pair 0.3, heldOut 0.5}. heldOut must be 0 for train.
   */
  mix?: { single?: number; pair?: number; heldOut?: number };
}

export interface WordProblem extends MathExample {
  solution: string;
  meta: { templates: string; steps: number; novelty: Novelty; split: WordProblemSplit };
}

/** One in EVAL_BUCKETS of all number tuples (per template combination) is reserved for the eval split. */
const EVAL_BUCKETS = 5;

/** Split that owns a (templates, numbers) tuple: a fixed hash, independent of the seed. */
export function tupleSplit(templates: string, numbers: number[]): WordProblemSplit {
  return deriveSeed(0x5eed, `${templates}|${numbers.join(',')}`) % EVAL_BUCKETS === 0 ? 'eval' : 'train';
}

const byId = <T extends { id: string }>(xs: T[], id: string): T => {
  const found = xs.find((x) => x.id === id);
  if (!found) throw new Error(`wordproblems: unknown template '${id}'`);
  return found;
};

/** Draw numbers for a template combination until the tuple belongs to the wanted split. */
function build(rng: Rng, opener: Opener, cont: Continuer | null, split: WordProblemSplit): Omit<WordProblem, 'id' | 'meta'> {
  const key = cont ? `${opener.id}+${cont.id}` : opener.id;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const a = opener.draw(rng);
    const x = opener.value(a);
    const b = cont ? cont.draw(rng, x) : [];
    if (b === null) continue;
    if (tupleSplit(key, [...a, ...b]) !== split) continue;
    const s = drawScene(rng);
    if (!cont) {
      return { question: `${opener.setup(s, a)} ${opener.question(s)}`, solution: `${opener.step(s, a, x)}\nThe answer is: ${x}`, answer: String(x) };
    }
    const y = cont.value(x, b);
    return {
      question: `${opener.setup(s, a)} ${cont.setup(s, b)} ${cont.question(s)}`,
      solution: `${opener.step(s, a, x)} ${cont.step(s, x, b, y)}\nThe answer is: ${y}`,
      answer: String(y),
    };
  }
  throw new Error(`wordproblems: could not draw numbers for '${key}' in split '${split}'`);
}

function weights(opts: WordProblemOptions): [number, number, number] {
  const d = opts.split === 'train' ? { single: 0.3, pair: 0.7, heldOut: 0 } : { single: 0.2, pair: 0.3, heldOut: 0.5 };
  const m = { ...d, ...opts.mix };
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'number' || !(v >= 0)) throw new Error(`wordproblems: mix.${k} must be a number >= 0, got ${String(v)}`);
  }
  if (opts.split === 'train' && m.heldOut > 0) throw new Error('wordproblems: mix.heldOut must be 0 for the train split (held-out pairs are eval-only)');
  const sum = m.single + m.pair + m.heldOut;
  if (sum <= 0) throw new Error('wordproblems: mix weights sum to 0');
  return [m.single / sum, m.pair / sum, m.heldOut / sum];
}

/**
 * Generate n problems of one split.
 * @example generateWordProblems({ seed: 0, n: 1000, split: 'train' })
 */
export function generateWordProblems(opts: WordProblemOptions): WordProblem[] {
  if (!Number.isInteger(opts.seed)) throw new Error(`wordproblems: seed must be an integer, got ${String(opts.seed)}`);
  if (!Number.isInteger(opts.n) || opts.n < 0) throw new Error(`wordproblems: n must be a non-negative integer, got ${String(opts.n)}`);
  if (opts.split !== 'train' && opts.split !== 'eval') throw new Error(`wordproblems: split must be 'train' or 'eval', got '${String(opts.split)}'`);
  const [wSingle, wPair] = weights(opts);
  const held = new Set(HELD_OUT_PAIRS);
  const seenPairs = allPairs().filter((p) => !held.has(p));
  const out: WordProblem[] = [];
  for (let i = 0; i < opts.n; i++) {
    const rng = new Rng(deriveSeed(opts.seed, `wordproblems/${opts.split}/${i}`));
    const u = rng.next();
    let templates: string;
    let novelty: Novelty;
    if (u < wSingle) templates = pick(rng, OPENERS).id;
    else templates = pick(rng, u < wSingle + wPair ? seenPairs : HELD_OUT_PAIRS);
    if (opts.split === 'train') novelty = 'seen';
    else novelty = held.has(templates) ? 'new-combination' : 'new-numbers';
    const [o, c] = templates.split('+');
    const body = build(rng, byId(OPENERS, o), c ? byId(CONTINUERS, c) : null, opts.split);
    out.push({ id: `wp-${opts.split}-${i}`, ...body, meta: { templates, steps: c ? 2 : 1, novelty, split: opts.split } });
  }
  return out;
}
