/**
 * Deterministic batching: a seeded shuffle per epoch, right padding (pad id, label IGNORE_INDEX) and optional packing
 * of several whole examples into one row. Right padding needs no attention mask under causal attention (real tokens
 * never look right); packed rows carry `segmentIds` so a model can keep examples from attending to each other.
 */
import { deriveSeed, Rng } from '../util/random';
import { assertPositiveInt, encodeExamples, type EncodeOptions } from './encode';
import { IGNORE_INDEX, type Batch, type EncodedExample, type MathExample, type TokenizerLike } from './types';

export interface BatchOptions {
  batchSize: number;
  /** Seeds the example order; the same (seed, epoch) always gives the same batches. */
  seed: number;
  /** Epoch index: each epoch gets its own order (default 0). */
  epoch?: number;
  /** Shuffle the examples (default true); false keeps file order. */
  shuffle?: boolean;
  /** Drop a last, smaller batch (default false). */
  dropLast?: boolean;
  /** Pack whole examples into rows of maxLength tokens (default false). */
  pack?: boolean;
  /** Pad every batch to maxLength instead of to its longest row (default 'longest'; packing always uses maxLength). */
  padTo?: 'longest' | 'maxLength';
  /** Row length for packing and padTo 'maxLength'. */
  maxLength?: number;
  padId: number;
}

/** The example order of one epoch: a permutation of 0..n-1 from (seed, epoch) alone. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return shuffle ? new Rng(deriveSeed(seed, `data-order/epoch-${epoch}`)).shuffle(idx) : idx;
}

/** Next-fit packing in the given order: a row is closed when the next example does not fit. */
export function packRows(examples: EncodedExample[], maxLength: number): EncodedExample[][] {
  assertPositiveInt(maxLength, 'packRows: maxLength');
  const rows: EncodedExample[][] = [];
  let row: EncodedExample[] = [];
  let used = 0;
  for (const e of examples) {
    if (e.inputIds.length > maxLength) {
      throw new Error(`packRows: example '${e.id}' has ${e.inputIds.length} tokens, over maxLength=${maxLength}`);
    }
    if (used + e.inputIds.length > maxLength && row.length) {
      rows.push(row);
      row = [];
      used = 0;
    }
    row.push(e);
    used += e.inputIds.length;
  }
  if (row.length) rows.push(row);
  return rows;
}

/** Lay rows (each a list of examples placed back to back) into one padded [B, T] batch. */
export function collate(rows: EncodedExample[][], padId: number, width?: number): Batch {
  const longest = Math.max(0, ...rows.map((r) => r.reduce((s, e) => s + e.inputIds.length, 0)));
  const T = width ?? longest;
  if (T < longest) throw new Error(`collate: width ${T} is shorter than the longest row (${longest} tokens)`);
  const B = rows.length;
  const inputIds = new Int32Array(B * T).fill(padId); // [B, T]
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX); // [B, T]
  const segmentIds = new Int32Array(B * T); // [B, T], 0 = padding
  rows.forEach((row, b) => {
    let t = b * T;
    row.forEach((e, k) => {
      inputIds.set(e.inputIds, t);
      labels.set(e.labels, t);
      segmentIds.fill(k + 1, t, t + e.inputIds.length);
      t += e.inputIds.length;
    });
  });
  return { inputIds, labels, shape: [B, T], exampleIds: rows.map((r) => r.map((e) => e.id)), segmentIds };
}

function validate(opts: BatchOptions): void {
  assertPositiveInt(opts.batchSize, 'batch: batchSize');
  if (!Number.isInteger(opts.seed)) throw new Error(`batch: seed must be an integer, got ${String(opts.seed)}`);
  assertPositiveInt(opts.epoch ?? 0, 'batch: epoch', 0);
  if (!Number.isInteger(opts.padId) || opts.padId < 0) throw new Error(`batch: padId must be a non-negative integer, got ${String(opts.padId)}`);
  if ((opts.pack || opts.padTo === 'maxLength') && opts.maxLength === undefined) {
    throw new Error(`batch: maxLength is required with ${opts.pack ? 'pack' : "padTo 'maxLength'"}`);
  }
  if (opts.padTo !== undefined && opts.padTo !== 'longest' && opts.padTo !== 'maxLength') {
    throw new Error(`batch: padTo must be 'longest' or 'maxLength', got ${JSON.stringify(opts.padTo)}`);
  }
}

/** The rows of one epoch (each row: the examples laid in it), in batch order, before padding. */
export function epochRows(encoded: EncodedExample[], opts: BatchOptions): EncodedExample[][] {
  validate(opts);
  const order = epochOrder(encoded.length, opts.seed, opts.epoch ?? 0, opts.shuffle ?? true);
  const ordered = order.map((i) => encoded[i]);
  const width = rowWidth(opts);
  if (width !== undefined) {
    for (const e of ordered) {
      if (e.inputIds.length > width) throw new Error(`batch: example '${e.id}' has ${e.inputIds.length} tokens, over maxLength=${width}`);
    }
  }
  return opts.pack ? packRows(ordered, opts.maxLength as number) : ordered.map((e) => [e]);
}

function rowWidth(opts: BatchOptions): number | undefined {
  return opts.pack || opts.padTo === 'maxLength' ? opts.maxLength : undefined;
}

function batchCount(rows: number, opts: BatchOptions): number {
  return opts.dropLast ? Math.floor(rows / opts.batchSize) : Math.ceil(rows / opts.batchSize);
}

/** The batches of one epoch of already-encoded examples. */
export function batchEncoded(encoded: EncodedExample[], opts: BatchOptions): Batch[] {
  const rows = epochRows(encoded, opts);
  const out: Batch[] = [];
  for (let i = 0; i < batchCount(rows.length, opts); i++) {
    out.push(collate(rows.slice(i * opts.batchSize, (i + 1) * opts.batchSize), opts.padId, rowWidth(opts)));
  }
  return out;
}

export interface MakeBatchesOptions extends Omit<BatchOptions, 'padId' | 'maxLength'>, EncodeOptions {}

/**
 * Tokenise, shuffle and batch supervised examples for one epoch: the Alpaca prompt (or `template`), loss on the
 * response + EOS only, truncation to maxLength, right padding with the tokenizer's pad id.
 * @example makeBatches(problems, tok, { batchSize: 16, maxLength: 256, seed: 0, epoch: 0 })
 */
export function makeBatches(examples: MathExample[], tok: TokenizerLike, opts: MakeBatchesOptions): Batch[] {
  const batchOpts: BatchOptions = { ...opts, padId: tok.padId, maxLength: opts.maxLength };
  validate(batchOpts); // before the (slower) encoding, so option errors come first
  const { encoded, stats } = encodeExamples(examples, tok, opts);
  if (encoded.length === 0 && examples.length > 0) {
    throw new Error(
      `makeBatches: none of the ${examples.length} examples fits maxLength=${opts.maxLength} ` +
        `(${stats.dropped} dropped, ${stats.noLoss} with no room left after the prompt)`,
    );
  }
  return batchEncoded(encoded, batchOpts);
}

/**
 * Step-indexed batches over as many epochs as needed: step s is batch s - start(e) of the epoch e that contains it,
 * so a resumed run reproduces the same stream from any step. Unpacked epochs all have the same number of batches;
 * packed ones can differ (the packing depends on the order), so their lengths are computed once and remembered.
 */
export class BatchSchedule {
  private readonly epochLengths: number[] = [];
  private cachedEpoch = -1;
  private cachedRows: EncodedExample[][] = [];

  constructor(private readonly encoded: EncodedExample[], private readonly opts: Omit<BatchOptions, 'epoch'>) {
    validate({ ...opts, epoch: 0 });
    if (encoded.length === 0) throw new Error('BatchSchedule: no examples to batch');
    if (this.epochLength(0) === 0) {
      throw new Error(`BatchSchedule: ${encoded.length} examples give no full batch of ${opts.batchSize} (dropLast)`);
    }
  }

  private rows(e: number): EncodedExample[][] {
    if (e !== this.cachedEpoch) {
      this.cachedRows = epochRows(this.encoded, { ...this.opts, epoch: e });
      this.cachedEpoch = e;
    }
    return this.cachedRows;
  }

  /** Number of batches in epoch e. */
  epochLength(e: number): number {
    if (!this.opts.pack) e = 0; // unpacked: every epoch has the same row count
    while (this.epochLengths.length <= e) {
      const k = this.epochLengths.length;
      this.epochLengths.push(batchCount(this.rows(k).length, this.opts));
    }
    return this.epochLengths[e];
  }

  /** The batch for a global step (0-based), with its epoch and index inside the epoch. */
  at(step: number): { batch: Batch; epoch: number; index: number } {
    assertPositiveInt(step, 'BatchSchedule.at: step', 0);
    let epoch = 0;
    let index = step;
    if (!this.opts.pack) {
      epoch = Math.floor(step / this.epochLength(0));
      index = step % this.epochLength(0);
    } else {
      while (index >= this.epochLength(epoch)) index -= this.epochLength(epoch++);
    }
    const B = this.opts.batchSize;
    const batch = collate(this.rows(epoch).slice(index * B, (index + 1) * B), this.opts.padId, rowWidth(this.opts));
    return { batch, epoch, index };
  }
}
