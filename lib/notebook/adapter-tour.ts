/**
 * One linear layer, every adapter kind: what each adds (trainable parameters, closed form and counted), what it does
 * at initialisation (the output must equal the base layer's), and whether merge and unmerge are exact once the
 * adapter has moved away from its init. The quickstart notebook shows this table.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAPTER_KINDS, adapterDefaults, createAdapter, numAdapterParams, resolveAdapterConfig } from '../adapters/registry';
import type { AdapterConfig, AdapterKind } from '../adapters/types';
import { createLinear } from '../models/linear';
import { Rng, deriveSeed } from '../util/random';

export interface TourOptions {
  /** Layer shape [out, in]. */
  out: number;
  in: number;
  /** Rank / block size given to every kind that has one (Bat needs r | out and r | in; mini uses miniR = r). */
  r: number;
  /** Tokens in the probe batch x [tokens, in]. */
  tokens: number;
  seed: number;
  /** Scale of the random move away from init before the merge check (relative to the init values' scale). */
  moveStd?: number;
}

export interface TourRow {
  kind: AdapterKind;
  /** The adapter config beyond its kind, e.g. `r=8 alpha=16`. */
  config: string;
  /** Closed-form count from the method's spec. */
  params: number;
  /** Count from the created variables (must equal params). */
  params_counted: number;
  /** max |adapter(x) - base(x)| right after creation (the original base, before any residual is written). */
  init_max_diff: number;
  /** After a random move: max |merged forward - unmerged forward|. */
  merge_max_diff: number;
  /** max |W after unmerge - W before merge|. */
  unmerge_max_diff: number;
}

/** The config of `kind` used on a layer with rank r (defaults otherwise). */
export function tourConfig(kind: AdapterKind, r: number): AdapterConfig {
  const d = adapterDefaults(kind) as unknown as Record<string, unknown>;
  const patch: Record<string, unknown> = { kind };
  if ('r' in d) patch.r = r;
  if ('alpha' in d) patch.alpha = 2 * r;
  if ('miniR' in d) patch.miniR = r;
  return resolveAdapterConfig(patch as { kind: string });
}

function describe(cfg: AdapterConfig): string {
  return Object.entries(cfg)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function gaussian(rng: Rng, shape: [number, number], std: number): tf.Tensor2D {
  return tf.tensor2d(rng.normalArray(shape[0] * shape[1], std), shape);
}

/** Run the tour for one kind; every tensor it makes is disposed. */
export function tourKind(kind: AdapterKind, opts: TourOptions): TourRow {
  const rng = new Rng(deriveSeed(opts.seed, `tour/${kind}`));
  const shape = { out: opts.out, in: opts.in, bias: true };
  const cfg = tourConfig(kind, opts.r);
  const w = gaussian(rng, [opts.out, opts.in], 1 / Math.sqrt(opts.in)); // [out, in]
  const b = tf.tensor1d(rng.normalArray(opts.out, 0.1)); // [out]
  const x = gaussian(rng, [opts.tokens, opts.in], 1); // [N, in]
  const grad = gaussian(rng, [opts.out, opts.in], 1); // [out, in], LoRA-GA's init direction
  const base = createLinear(`tour.${kind}`, w, b);
  const yBase = tf.tidy(() => tf.add(tf.matMul(x, w, false, true), b)); // [N, out]
  const adapter = createAdapter(base, cfg, { seed: opts.seed, initGrad: grad });
  try {
    const initDiff = tf.tidy(() => maxDiff(adapter.forward(x), yBase));
    // Move every trainable tensor away from its init so that ΔW != 0 (Bone, LoRA's B start at zero).
    const std = opts.moveStd ?? 0.05;
    for (const v of adapter.trainableVariables()) {
      const moved = tf.tidy(() => tf.add(v, tf.tensor(rng.normalArray(v.size, std), v.shape)));
      v.assign(moved); // assign shares the data; the handle is still ours to dispose
      moved.dispose();
    }
    const yUnmerged = adapter.forward(x);
    const wBefore = tf.clone(base.weight);
    adapter.merge({ safe: true });
    const yMerged = adapter.forward(x);
    adapter.unmerge();
    const row: TourRow = {
      kind,
      config: describe(cfg),
      params: numAdapterParams(cfg, shape),
      params_counted: adapter.numTrainableParams(),
      init_max_diff: initDiff,
      merge_max_diff: maxDiff(yMerged, yUnmerged),
      unmerge_max_diff: maxDiff(base.weight, wBefore),
    };
    tf.dispose([yUnmerged, yMerged, wBefore]);
    return row;
  } finally {
    adapter.dispose();
    base.dispose();
    tf.dispose([w, b, x, grad, yBase]);
  }
}

/** The tour over every registered kind (or the given ones). */
export function adapterTour(opts: TourOptions, kinds: readonly AdapterKind[] = ADAPTER_KINDS): TourRow[] {
  return kinds.map((k) => tourKind(k, opts));
}

/** Markdown verdict: which kinds pass each check within `tol` (fp32 arithmetic on O(1) values). */
export function tourVerdict(rows: readonly TourRow[], tol = 1e-4): string {
  const fails = (pred: (r: TourRow) => boolean) => rows.filter((r) => !pred(r)).map((r) => r.kind);
  const checks: [string, string[]][] = [
    ['closed-form parameter count equals the created variables', fails((r) => r.params === r.params_counted)],
    [`output at init equals the base layer (max |Δy| ≤ ${tol})`, fails((r) => r.init_max_diff <= tol)],
    [`merged forward equals unmerged forward after a random move (≤ ${tol})`, fails((r) => r.merge_max_diff <= tol)],
    [`unmerge restores the base weight (≤ ${tol})`, fails((r) => r.unmerge_max_diff <= tol)],
  ];
  const lines = checks.map(([what, bad]) => (bad.length === 0 ? `- **holds** for all ${rows.length} kinds: ${what}` : `- **fails** for ${bad.join(', ')}: ${what}`));
  return ['**Verdict (one layer, every adapter)**', '', ...lines].join('\n');
}
