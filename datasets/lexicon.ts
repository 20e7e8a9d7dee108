/**
 * The small vocabulary shared by the generated corpus and the generated word problems, so a tiny model pretrained on
 * the corpus has seen every word (and character) the problems use. Words are short on purpose: problems must fit a
 * char-level context of a few hundred characters.
 */
import type { Rng } from '../lib/util/random';

export interface Person {
  name: string;
  /** Subject pronoun, capitalised form derived on use. */
  pron: 'she' | 'he';
}

export interface Item {
  one: string;
  many: string;
}

export const PEOPLE: Person[] = [
  { name: 'Ann', pron: 'she' }, { name: 'Ben', pron: 'he' }, { name: 'Cal', pron: 'he' }, { name: 'Dee', pron: 'she' },
  { name: 'Eve', pron: 'she' }, { name: 'Fay', pron: 'she' }, { name: 'Gus', pron: 'he' }, { name: 'Hal', pron: 'he' },
  { name: 'Ivy', pron: 'she' }, { name: 'Jo', pron: 'she' }, { name: 'Kim', pron: 'she' }, { name: 'Lou', pron: 'he' },
  { name: 'Max', pron: 'he' }, { name: 'Nia', pron: 'she' }, { name: 'Oz', pron: 'he' }, { name: 'Pam', pron: 'she' },
  { name: 'Quin', pron: 'he' }, { name: 'Rob', pron: 'he' }, { name: 'Sam', pron: 'he' }, { name: 'Tia', pron: 'she' },
  { name: 'Uma', pron: 'she' }, { name: 'Val', pron: 'she' }, { name: 'Wes', pron: 'he' }, { name: 'Xia', pron: 'she' },
  { name: 'Yul', pron: 'he' }, { name: 'Zoe', pron: 'she' },
];

export const ITEMS: Item[] = [
  { one: 'apple', many: 'apples' }, { one: 'pear', many: 'pears' }, { one: 'egg', many: 'eggs' },
  { one: 'pen', many: 'pens' }, { one: 'book', many: 'books' }, { one: 'cup', many: 'cups' },
  { one: 'toy', many: 'toys' }, { one: 'card', many: 'cards' }, { one: 'shell', many: 'shells' },
  { one: 'ball', many: 'balls' }, { one: 'plum', many: 'plums' }, { one: 'cake', many: 'cakes' },
  { one: 'bead', many: 'beads' }, { one: 'rock', many: 'rocks' }, { one: 'kite', many: 'kites' },
  { one: 'lime', many: 'limes' }, { one: 'sock', many: 'socks' }, { one: 'doll', many: 'dolls' },
  { one: 'nut', many: 'nuts' }, { one: 'fig', many: 'figs' },
];

/** Things bought one at a time, for prices. */
export const THINGS: string[] = ['hat', 'bag', 'lamp', 'game', 'mug', 'shirt', 'clock', 'vase', 'belt', 'map', 'drum', 'jar'];

export const CONTAINERS: Item[] = [
  { one: 'bag', many: 'bags' }, { one: 'box', many: 'boxes' }, { one: 'pack', many: 'packs' }, { one: 'jar', many: 'jars' },
];

export const PLACES: string[] = ['shop', 'market', 'park', 'school', 'farm', 'store', 'fair', 'club'];

export function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** Integer uniform in [lo, hi] (inclusive). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  if (hi < lo) throw new Error(`randInt: empty range [${lo}, ${hi}]`);
  return lo + rng.int(hi - lo + 1);
}

/** `1 pear` / `3 pears`. */
export function count(n: number, item: Item): string {
  return `${n} ${n === 1 ? item.one : item.many}`;
}
