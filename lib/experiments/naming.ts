/**
 * Variant names, the stable key of a run: `<label>[-r<r>]-lr<lr>-s<seed>` (e.g. `lora-r4-lr1e-3-s0`). The results file
 * is runs/<variant>.json, and the variant without its seed names the group that tables average over.
 */
import type { ExperimentConfig } from './types';

/** `1e-3`, `2e-4`, `1.5e-3`: the shortest exponent form, stable across runs. */
export function formatLr(lr: number): string {
  return lr.toExponential().replace('e+', 'e').replace(/e0$/, '');
}

export function variantName(label: string, cfg: ExperimentConfig): string {
  const r = (cfg.adapter as { r?: number }).r;
  return `${label}${r !== undefined ? `-r${r}` : ''}-lr${formatLr(cfg.optimizer.lr)}-s${cfg.seed}`;
}

/** The variant without its seed. */
export function groupOf(variant: string): string {
  return variant.replace(/-s\d+$/, '');
}

/** Split a variant into its parts; null if it is not of the form variantName makes. */
export function parseVariant(variant: string): { label: string; r: number | null; lr: string; seed: number } | null {
  const m = /^(.+?)(?:-r(\d+))?-lr([0-9.]+(?:e-?\d+)?)-s(\d+)$/.exec(variant);
  return m ? { label: m[1], r: m[2] ? Number(m[2]) : null, lr: m[3], seed: Number(m[4]) } : null;
}
