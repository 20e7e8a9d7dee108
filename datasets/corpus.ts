/**
 * The pretraining corpus the kit generates for its tiny base LM: English-like paragraphs about people, items, prices
 * and counts, worked one-step stories written with the same sentences as the word problems, and arithmetic facts
 * (`12 + 7 = 19.`, `6 times 7 is 42.`) over the number ranges the problems need. Stories use one template at a time,
 * never two chained, so the word problems' two-step combinations (and the eval-only ones) stay unseen.
 * Paragraph i depends only on (seed, i); a longer corpus extends a shorter one.
 */
import * as fs from 'node:fs';
import { deriveSeed, Rng } from '../lib/util/random';
import { cap, count, pick, randInt, PLACES, type Person } from './lexicon';
import { drawScene, CONTINUERS, OPENERS, type QtyType, type Scene } from './wordproblem-templates';

export interface CorpusOptions {
  seed: number;
  /** Length of the corpus in characters (the text is cut to exactly this many). */
  chars: number;
}

/** A one-step story from an opener: its facts, sometimes its question, then the worked step. */
function openerStory(g: Rng): string {
  const o = pick(g, OPENERS);
  const s = drawScene(g);
  const a = o.draw(g);
  const v = o.value(a);
  return g.next() < 0.3 ? `${o.setup(s, a)} ${o.question(s)} ${o.step(s, a, v)}` : `${o.setup(s, a)} ${o.step(s, a, v)}`;
}

/** How a quantity of each type is first stated, so a continuer can be told on its own. */
function intro(s: Scene, type: QtyType, x: number): string {
  if (type === 'count') return `${s.p.name} has ${count(x, s.item)}.`;
  if (type === 'cost') return `${s.p.name} spends $${x} on ${s.item.many}.`;
  return `${s.p.name} has $${x}.`;
}

/** A one-step story from a continuer, starting from a stated quantity. */
function continuerStory(g: Rng): string {
  const c = pick(g, CONTINUERS);
  const s = drawScene(g);
  for (;;) {
    const x = randInt(g, 2, c.in === 'cost' ? 95 : 120);
    const b = c.draw(g, x);
    if (b === null) continue;
    const y = c.value(x, b);
    const q = g.next() < 0.3 ? ` ${c.question(s)}` : '';
    return `${intro(s, c.in, x)} ${c.setup(s, b)}${q} ${c.step(s, x, b, y)}`;
  }
}

/** Arithmetic facts in symbols and in words. */
function arithmetic(g: Rng): string {
  const facts: string[] = [];
  const n = randInt(g, 3, 6);
  for (let i = 0; i < n; i++) {
    const kind = g.int(4);
    const big = g.next() < 0.4;
    if (kind === 0) {
      const a = randInt(g, 0, big ? 700 : 60);
      const b = randInt(g, 0, big ? 60 : 40);
      facts.push(g.next() < 0.7 ? `${a} + ${b} = ${a + b}.` : `${a} plus ${b} is ${a + b}.`);
    } else if (kind === 1) {
      const a = randInt(g, 0, big ? 700 : 60);
      const b = randInt(g, 0, a);
      facts.push(g.next() < 0.7 ? `${a} - ${b} = ${a - b}.` : `${a} minus ${b} is ${a - b}.`);
    } else if (kind === 2) {
      const a = randInt(g, 0, big ? 120 : 12);
      const b = randInt(g, 0, big ? 9 : 12);
      facts.push(g.next() < 0.7 ? `${a} * ${b} = ${a * b}.` : `${a} times ${b} is ${a * b}.`);
    } else {
      const b = randInt(g, 1, 9);
      const q = randInt(g, 0, big ? 60 : 12);
      facts.push(g.next() < 0.7 ? `${q * b} / ${b} = ${q}.` : `${q * b} divided by ${b} is ${q}.`);
    }
  }
  return facts.join(' ');
}

function pron(p: Person): string {
  return cap(p.pron);
}

/** Plain descriptive sentences: possession, comparison, prices, places, containers. */
function description(g: Rng): string {
  const s = drawScene(g);
  const a = randInt(g, 1, 40);
  const b = randInt(g, 1, 40);
  const cmp = a > b ? 'more' : a < b ? 'fewer' : 'as many';
  const out = [
    `${s.p.name} has ${count(a, s.item)}.`,
    `${s.q.name} has ${count(b, s.item)}.`,
    cmp === 'as many' ? `${s.p.name} has as many ${s.item.many} as ${s.q.name}.` : `${s.p.name} has ${cmp} ${s.item.many} than ${s.q.name}.`,
  ];
  const extra = [
    `A ${s.thing} costs $${randInt(g, 2, 60)}.`,
    `${pron(s.p)} goes to the ${pick(g, PLACES)} with ${s.r.name}.`,
    `There are ${count(randInt(g, 2, 12), s.item)} in each ${s.box.one}.`,
    `${cap(s.box.one)} #${randInt(g, 1, 9)} has ${count(randInt(g, 0, 30), s.item)}.`,
    `${s.r.name} wants to buy a ${s.thing2}, but ${s.r.pron} has only $${randInt(g, 1, 20)}.`,
    `${pron(s.q)} gives ${s.p.name} ${count(randInt(g, 1, 9), s.item)}.`,
  ];
  g.shuffle(extra);
  return [...out, ...extra.slice(0, randInt(g, 1, 3))].join(' ');
}

/** Counting and order of numbers. */
function numbers(g: Rng): string {
  const a = randInt(g, 0, 200);
  const len = randInt(g, 4, 8);
  const seq = Array.from({ length: len }, (_, i) => a + i).join(', ');
  const b = randInt(g, 0, 200);
  const rel = b > a ? `${b} is more than ${a}.` : b < a ? `${b} is less than ${a}.` : `${a} is equal to ${b}.`;
  return `Count: ${seq}. ${rel} Half of ${2 * b} is ${b}. Double ${a} is ${2 * a}.`;
}

const KINDS: Array<[number, (g: Rng) => string]> = [
  [0.3, openerStory],
  [0.25, continuerStory],
  [0.2, arithmetic],
  [0.15, description],
  [0.1, numbers],
];

/** One paragraph (one line of the corpus), from (seed, index) alone. */
export function corpusParagraph(seed: number, index: number): string {
  const g = new Rng(deriveSeed(seed, `corpus/${index}`));
  let u = g.next();
  for (const [w, f] of KINDS) {
    if (u < w) return f(g);
    u -= w;
  }
  return KINDS[KINDS.length - 1][1](g);
}

/**
 * Generate `chars` characters of corpus text (paragraphs separated by newlines, cut to exactly `chars`).
 * @example generateCorpus({ seed: 0, chars: 1_000_000 })
 */
export function generateCorpus(opts: CorpusOptions): string {
  if (!Number.isInteger(opts.seed)) throw new Error(`corpus: seed must be an integer, got ${String(opts.seed)}`);
  if (!Number.isInteger(opts.chars) || opts.chars < 1) throw new Error(`corpus: chars must be a positive integer, got ${String(opts.chars)}`);
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < opts.chars; i++) {
    const p = corpusParagraph(opts.seed, i);
    parts.push(p);
    len += p.length + 1;
  }
  return parts.join('\n').slice(0, opts.chars);
}

/** A plain-text corpus from a file (e.g. tinyshakespeare/input.txt), instead of the generated one. */
export function loadTextCorpus(file: string, opts: { chars?: number } = {}): string {
  if (!fs.existsSync(file)) throw new Error(`text corpus not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  if (text.length === 0) throw new Error(`text corpus is empty: ${file}`);
  if (text.includes('\uFFFD')) throw new Error(`text corpus is not valid UTF-8: ${file}`);
  if (opts.chars !== undefined) {
    if (!Number.isInteger(opts.chars) || opts.chars < 1) throw new Error(`loadTextCorpus: chars must be a positive integer, got ${opts.chars}`);
    return text.slice(0, opts.chars);
  }
  return text;
}
