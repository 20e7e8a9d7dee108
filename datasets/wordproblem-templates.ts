/**
 * The word-problem templates. A problem is an opener (a one-step problem on its own: two given numbers, one
 * operation, a quantity of some type) optionally followed by a continuer (one more given number and operation applied
 * to that quantity). Types keep combinations sensible: a count of items, a cost (money paid), or funds (money held).
 * Every step sentence contains `a op b = c` literally, so the answer can be re-derived from the solution text.
 */
import type { Rng } from '../lib/util/random';
import { cap, count, pick, randInt, CONTAINERS, ITEMS, PEOPLE, THINGS, type Item, type Person } from './lexicon';

export type QtyType = 'count' | 'cost' | 'funds';

/** The people and things one problem talks about. */
export interface Scene {
  p: Person;
  q: Person;
  r: Person;
  item: Item;
  box: Item;
  thing: string;
  thing2: string;
}

export interface Opener {
  id: string;
  out: QtyType;
  draw(rng: Rng): number[];
  value(n: number[]): number;
  setup(s: Scene, n: number[]): string;
  step(s: Scene, n: number[], v: number): string;
  question(s: Scene): string;
}

export interface Continuer {
  id: string;
  in: QtyType;
  out: QtyType;
  /** Numbers for this step given the running quantity x, or null when x does not allow it (e.g. no divisor). */
  draw(rng: Rng, x: number): number[] | null;
  value(x: number, n: number[]): number;
  setup(s: Scene, n: number[]): string;
  step(s: Scene, x: number, n: number[], v: number): string;
  question(s: Scene): string;
}

/** The main person p, and two others of the other gender so `she`/`he` in a continuer can only mean p. */
export function drawScene(rng: Rng): Scene {
  const p = pick(rng, PEOPLE);
  const others = PEOPLE.filter((x) => x.pron !== p.pron);
  rng.shuffle(others);
  const things = THINGS.slice();
  rng.shuffle(things);
  return { p, q: others[0], r: others[1], item: pick(rng, ITEMS), box: pick(rng, CONTAINERS), thing: things[0], thing2: things[1] };
}

const P = (s: Scene): string => cap(s.p.pron);

/** A divisor of x in [lo, hi] leaving a quotient >= minQ, drawn uniformly; null if none. */
function divisor(rng: Rng, x: number, lo: number, hi: number, minQ: number): number | null {
  const ds: number[] = [];
  for (let d = lo; d <= hi; d++) if (x % d === 0 && x / d >= minQ) ds.push(d);
  return ds.length ? ds[rng.int(ds.length)] : null;
}

export const OPENERS: Opener[] = [
  {
    id: 'packs', out: 'count',
    draw: (g) => [randInt(g, 2, 6), randInt(g, 2, 12)],
    value: ([a, b]) => a * b,
    setup: (s, [a, b]) => `${s.p.name} buys ${count(a, s.box)} of ${count(b, s.item)}.`,
    step: (s, [a, b], v) => `${s.p.name} buys ${a} * ${b} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} buy?`,
  },
  {
    id: 'found', out: 'count',
    draw: (g) => [randInt(g, 3, 40), randInt(g, 2, 20)],
    value: ([a, b]) => a + b,
    setup: (s, [a, b]) => `${s.p.name} has ${count(a, s.item)} and finds ${b} more.`,
    step: (s, [a, b], v) => `${s.p.name} has ${a} + ${b} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have now?`,
  },
  {
    id: 'lost', out: 'count',
    draw: (g) => {
      const a = randInt(g, 10, 50);
      return [a, randInt(g, 2, Math.min(20, a - 2))];
    },
    value: ([a, b]) => a - b,
    setup: (s, [a, b]) => `${s.p.name} has ${count(a, s.item)} and loses ${b} of them.`,
    step: (s, [a, b], v) => `${s.p.name} has ${a} - ${b} = ${v} ${s.item.many} left.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have left?`,
  },
  {
    id: 'times', out: 'count',
    draw: (g) => [randInt(g, 2, 15), randInt(g, 2, 5)],
    value: ([a, k]) => a * k,
    setup: (s, [a, k]) => `${s.q.name} has ${count(a, s.item)}. ${s.p.name} has ${k} times as many.`,
    step: (s, [a, k], v) => `${s.p.name} has ${a} * ${k} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have?`,
  },
  {
    id: 'more', out: 'count',
    draw: (g) => [randInt(g, 3, 40), randInt(g, 2, 20)],
    value: ([a, b]) => a + b,
    setup: (s, [a, b]) => `${s.q.name} has ${count(a, s.item)}. ${s.p.name} has ${b} more than ${s.q.name}.`,
    step: (s, [a, b], v) => `${s.p.name} has ${a} + ${b} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have?`,
  },
  {
    id: 'fewer', out: 'count',
    draw: (g) => {
      const a = randInt(g, 10, 50);
      return [a, randInt(g, 2, Math.min(20, a - 2))];
    },
    value: ([a, b]) => a - b,
    setup: (s, [a, b]) => `${s.q.name} has ${count(a, s.item)}. ${s.p.name} has ${b} fewer than ${s.q.name}.`,
    step: (s, [a, b], v) => `${s.p.name} has ${a} - ${b} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have?`,
  },
  {
    id: 'daily', out: 'count',
    draw: (g) => [randInt(g, 2, 12), randInt(g, 2, 7)],
    value: ([a, d]) => a * d,
    setup: (s, [a, d]) => `${s.p.name} gets ${count(a, s.item)} a day for ${d} days.`,
    step: (s, [a, d], v) => `${s.p.name} gets ${a} * ${d} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} get?`,
  },
  {
    id: 'share', out: 'count',
    draw: (g) => {
      const k = randInt(g, 2, 6);
      return [k * randInt(g, 2, 12), k];
    },
    value: ([a, k]) => a / k,
    setup: (s, [a, k]) => `${s.q.name} shares ${count(a, s.item)} equally among ${k} kids. ${s.p.name} is one of them.`,
    step: (s, [a, k], v) => `${s.p.name} gets ${a} / ${k} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} get?`,
  },
  {
    id: 'buy_each', out: 'cost',
    draw: (g) => [randInt(g, 2, 9), randInt(g, 2, 9)],
    value: ([a, p]) => a * p,
    setup: (s, [a, p]) => `${s.p.name} buys ${count(a, s.item)} for $${p} each.`,
    step: (s, [a, p], v) => `${s.p.name} spends ${a} * ${p} = ${v} dollars.`,
    question: (s) => `How much does ${s.p.name} spend?`,
  },
  {
    id: 'two_things', out: 'cost',
    draw: (g) => [randInt(g, 2, 40), randInt(g, 2, 40)],
    value: ([a, b]) => a + b,
    setup: (s, [a, b]) => `${s.p.name} buys a ${s.thing} for $${a} and a ${s.thing2} for $${b}.`,
    step: (s, [a, b], v) => `${s.p.name} spends ${a} + ${b} = ${v} dollars.`,
    question: (s) => `How much does ${s.p.name} spend?`,
  },
  {
    id: 'wage', out: 'funds',
    draw: (g) => [randInt(g, 5, 30), randInt(g, 2, 6)],
    value: ([a, w]) => a * w,
    setup: (s, [a, w]) => `${s.p.name} earns $${a} a week for ${w} weeks.`,
    step: (s, [a, w], v) => `${s.p.name} earns ${a} * ${w} = ${v} dollars.`,
    question: (s) => `How much does ${s.p.name} earn?`,
  },
  {
    id: 'wallet', out: 'funds',
    draw: (g) => {
      const a = randInt(g, 20, 99);
      return [a, randInt(g, 2, a - 2)];
    },
    value: ([a, b]) => a - b,
    setup: (s, [a, b]) => `${s.p.name} has $${a} and spends $${b}.`,
    step: (s, [a, b], v) => `${s.p.name} has ${a} - ${b} = ${v} dollars left.`,
    question: (s) => `How much money does ${s.p.name} have left?`,
  },
];

export const CONTINUERS: Continuer[] = [
  {
    id: 'give', in: 'count', out: 'count',
    draw: (g, x) => (x >= 2 ? [randInt(g, 1, Math.min(x - 1, 30))] : null),
    value: (x, [b]) => x - b,
    setup: (s, [b]) => `${P(s)} gives ${b} to ${s.r.name}.`,
    step: (s, x, [b], v) => `${s.p.name} has ${x} - ${b} = ${v} ${s.item.many} left.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have left?`,
  },
  {
    id: 'more', in: 'count', out: 'count',
    draw: (g) => [randInt(g, 2, 30)],
    value: (x, [b]) => x + b,
    setup: (s, [b]) => `Then ${s.p.pron} gets ${b} more.`,
    step: (s, x, [b], v) => `${s.p.name} has ${x} + ${b} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} have now?`,
  },
  {
    id: 'boxes', in: 'count', out: 'count',
    draw: (g, x) => {
      const k = divisor(g, x, 2, 9, 2);
      return k === null ? null : [k];
    },
    value: (x, [k]) => x / k,
    setup: (s, [k]) => `${P(s)} puts them equally into ${k} ${s.box.many}.`,
    step: (s, x, [k], v) => `Each ${s.box.one} has ${x} / ${k} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} are in each ${s.box.one}?`,
  },
  {
    id: 'times', in: 'count', out: 'count',
    draw: (g) => [randInt(g, 2, 4)],
    value: (x, [k]) => x * k,
    setup: (s, [k]) => `${s.r.name} has ${k} times as many as ${s.p.name}.`,
    step: (s, x, [k], v) => `${s.r.name} has ${x} * ${k} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.r.name} have?`,
  },
  {
    id: 'sell', in: 'count', out: 'funds',
    draw: (g) => [randInt(g, 2, 9)],
    value: (x, [p]) => x * p,
    setup: (s, [p]) => `${P(s)} sells them for $${p} each.`,
    step: (s, x, [p], v) => `${s.p.name} makes ${x} * ${p} = ${v} dollars.`,
    question: (s) => `How much money does ${s.p.name} make?`,
  },
  {
    id: 'change', in: 'cost', out: 'funds',
    draw: (g, x) => {
      const bills = [10, 20, 50, 100].filter((b) => b > x);
      return bills.length ? [bills[g.int(bills.length)]] : null;
    },
    value: (x, [b]) => b - x,
    setup: (s, [b]) => `${P(s)} pays with a $${b} bill.`,
    step: (s, x, [b], v) => `${s.p.name} gets ${b} - ${x} = ${v} dollars in change.`,
    question: (s) => `How much change does ${s.p.name} get?`,
  },
  {
    id: 'split', in: 'cost', out: 'cost',
    draw: (g, x) => {
      const k = divisor(g, x, 2, 6, 1);
      return k === null ? null : [k];
    },
    value: (x, [k]) => x / k,
    setup: (s, [k]) => `${k} friends split the cost equally.`,
    step: (s, x, [k], v) => `Each friend pays ${x} / ${k} = ${v} dollars.`,
    question: () => 'How much does each friend pay?',
  },
  {
    id: 'earn_more', in: 'funds', out: 'funds',
    draw: (g) => [randInt(g, 2, 50)],
    value: (x, [b]) => x + b,
    setup: (s, [b]) => `Then ${s.p.pron} earns $${b} more.`,
    step: (s, x, [b], v) => `${s.p.name} has ${x} + ${b} = ${v} dollars.`,
    question: (s) => `How much money does ${s.p.name} have now?`,
  },
  {
    id: 'spend', in: 'funds', out: 'funds',
    draw: (g, x) => (x >= 2 ? [randInt(g, 1, Math.min(x - 1, 60))] : null),
    value: (x, [b]) => x - b,
    setup: (s, [b]) => `${P(s)} spends $${b} on a ${s.thing}.`,
    step: (s, x, [b], v) => `${s.p.name} has ${x} - ${b} = ${v} dollars left.`,
    question: (s) => `How much money does ${s.p.name} have left?`,
  },
  {
    id: 'buy_with', in: 'funds', out: 'count',
    draw: (g, x) => {
      const p = divisor(g, x, 2, 9, 1);
      return p === null ? null : [p];
    },
    value: (x, [p]) => x / p,
    setup: (s, [p]) => `${P(s)} spends it all on ${s.item.many} at $${p} each.`,
    step: (s, x, [p], v) => `${s.p.name} buys ${x} / ${p} = ${v} ${s.item.many}.`,
    question: (s) => `How many ${s.item.many} does ${s.p.name} buy?`,
  },
];

/**
 * Opener+continuer pairs that only appear in the eval split (the "unseen combination" test). Every opener and every
 * continuer still appears in training with other partners.
 */
export const HELD_OUT_PAIRS: string[] = [
  'packs+sell', 'found+boxes', 'lost+times', 'times+give', 'more+more',
  'fewer+sell', 'daily+boxes', 'share+times', 'two_things+change', 'wallet+buy_with',
];

/** Every type-compatible opener+continuer pair id. */
export function allPairs(): string[] {
  const out: string[] = [];
  for (const o of OPENERS) for (const c of CONTINUERS) if (c.in === o.out) out.push(`${o.id}+${c.id}`);
  return out;
}
