/**
 * Paper versus kit: each headline claim of the paper (../shared/reference/paper.md §5), the paper's number, the kit's
 * measurement at the scale it ran, and a verdict decided by one stated rule from the 95% confidence intervals.
 */
import type { RunResult } from '../experiments/types';
import { formatLr, groupOf } from '../experiments/naming';
import { finalWindow, timeToLoss, windowLoss } from './rows';
import { Stat, summarize } from './stats';
import { MetricKey, metricDef, SummaryRow } from './summary';
import { formatCount } from './tables';

export const HOLDS = 'holds';
export const FAILS = 'does not hold';
export const OVERLAP = 'inconclusive: difference within seed noise (CI overlaps)';
export const TOO_FEW = 'inconclusive: fewer than 2 finished seeds';

export const VERDICT_RULE =
  'Each comparison uses the 95% confidence intervals of the means over seeds (Student t). It holds when the intervals ' +
  'do not overlap and the difference goes the claimed way; it does not hold when they do not overlap and it goes the ' +
  'other way; otherwise it is inconclusive (difference within seed noise). A margin ("> 2 points") shifts one interval ' +
  'by the margin first; "well above" (≫) means at least twice, i.e. the lower bound above twice the other upper bound. ' +
  'A claim made of several comparisons holds only if all hold, and does not hold if any does not.';

export interface ClaimResult {
  id: string;
  claim: string;
  paper: string;
  kit: string;
  verdict: string;
}

type Outcome = 'holds' | 'reversed' | 'overlap' | 'too-few';

/** Is `a` better than `b` (by more than `margin`, or by a factor `factor`) given their CIs? */
export function compareStats(a: Stat, b: Stat, better: 'higher' | 'lower', opts: { margin?: number; factor?: number } = {}): Outcome {
  if (a.n < 2 || b.n < 2 || !Number.isFinite(a.ci95) || !Number.isFinite(b.ci95)) return 'too-few';
  const margin = opts.margin ?? 0;
  const factor = opts.factor ?? 1;
  if (better === 'higher') {
    if (a.lo > factor * b.hi + margin) return 'holds';
    if (a.hi < factor * b.lo + margin) return 'reversed';
  } else {
    if (a.hi * factor < b.lo - margin) return 'holds';
    if (a.lo * factor > b.hi - margin) return 'reversed';
  }
  return 'overlap';
}

/** Combine comparisons: all hold -> holds; any reversed -> does not hold; too few seeds -> says so; else overlap. */
export function combine(outcomes: Outcome[]): string {
  if (outcomes.length === 0) return TOO_FEW;
  if (outcomes.includes('reversed')) return FAILS;
  if (outcomes.every((o) => o === 'holds')) return HOLDS;
  if (outcomes.includes('too-few')) return TOO_FEW;
  return OVERLAP;
}

const NAMES: Record<string, string> = { bone: 'Bone', bat: 'Bat', mini: 'MiSS-mini', lora: 'LoRA', pissa: 'PiSSA', olora: 'OLoRA', dora: 'DoRA', loraga: 'LoRA-GA', full: 'full FT' };

function fmt(s: Stat, key: MetricKey): string {
  const m = metricDef(key);
  if (s.n === 0 || !Number.isFinite(s.mean)) return 'n/a';
  const v = (s.mean * m.scale).toFixed(m.digits);
  return Number.isFinite(s.ci95) ? `${v} ± ${(s.ci95 * m.scale).toFixed(m.digits)}` : `${v} (n=${s.n})`;
}

function name(g: SummaryRow): string {
  const base = NAMES[g.kind] ?? g.kind;
  const label = g.label !== g.kind ? ` [${g.label}]` : '';
  return `${base}${label}${g.r !== null ? ` r=${g.r}` : ''}`;
}

/**
 * Groups of `kindA` and `kindB` to compare: the single group of each, or else the pairs that share r and lr (a sweep),
 * or else those that share lr.
 */
export function pairUp(summary: readonly SummaryRow[], kindA: string, kindB: string, sameR = false): [SummaryRow, SummaryRow][] {
  const A = summary.filter((g) => g.kind === kindA);
  const B = summary.filter((g) => g.kind === kindB);
  if (A.length === 0 || B.length === 0) return [];
  if (A.length === 1 && B.length === 1 && !sameR) return [[A[0], B[0]]];
  const byRLr = A.flatMap((a) => B.filter((b) => b.r === a.r && b.lr === a.lr).map((b): [SummaryRow, SummaryRow] => [a, b]));
  if (byRLr.length > 0 || sameR) return byRLr;
  return A.flatMap((a) => B.filter((b) => b.lr === a.lr).map((b): [SummaryRow, SummaryRow] => [a, b]));
}

interface Ctx {
  summary: readonly SummaryRow[];
  runs: readonly RunResult[];
}

type Evaluator = (c: Ctx) => { kit: string; verdict: string } | null;

/**
 * A claim that `kinds[0]` is better on one metric: than the next kind, and that one than the next, in turn (against
 * 'next': an ordering), or than each other kind alone ('first': the others are not compared with each other). Kinds
 * absent from the data are skipped; null without the first kind or any other.
 */
function beats(kinds: string[], key: MetricKey, opts: { margin?: number; against?: 'next' | 'first' } = {}): Evaluator {
  return ({ summary }) => {
    const present = kinds.filter((k) => summary.some((g) => g.kind === k));
    if (present.length < 2 || present[0] !== kinds[0]) return null;
    const better = metricDef(key).better ?? 'higher';
    const outcomes: Outcome[] = [];
    const involved: SummaryRow[] = [];
    for (let i = 1; i < present.length; i++) {
      for (const [a, b] of pairUp(summary, present[opts.against === 'first' ? 0 : i - 1], present[i])) {
        outcomes.push(compareStats(a.stats[key], b.stats[key], better, { margin: opts.margin }));
        for (const g of [a, b]) if (!involved.includes(g)) involved.push(g);
      }
    }
    if (outcomes.length === 0) return null;
    return { kit: `${metricDef(key).title}: ${involved.map((g) => `${name(g)} ${fmt(g.stats[key], key)}`).join(', ')}`, verdict: combine(outcomes) };
  };
}

/** `a` has more of a cost metric than `b` (Bat vs Bone) or less (Bone vs LoRA), with the ratio of means. */
function cost(kindA: string, kindB: string, key: MetricKey, direction: 'more' | 'less'): Evaluator {
  return ({ summary }) => {
    const pairs = pairUp(summary, kindA, kindB);
    if (pairs.length === 0) return null;
    const outcomes = pairs.map(([a, b]) => compareStats(a.stats[key], b.stats[key], direction === 'more' ? 'higher' : 'lower'));
    const kit = pairs
      .map(([a, b]) => `${name(a)} ${fmt(a.stats[key], key)} vs ${name(b)} ${fmt(b.stats[key], key)} (×${(a.stats[key].mean / b.stats[key].mean).toFixed(2)})`)
      .join('; ');
    return { kit: `${metricDef(key).title}: ${kit}`, verdict: combine(outcomes) };
  };
}

/** Initial gradient norm: Bone ≥ PiSSA ≫ LoRA (≫ = at least twice). */
const gradNorm: Evaluator = ({ summary }) => {
  const key: MetricKey = 'init_grad_norm';
  const outcomes: Outcome[] = [];
  const texts: string[] = [];
  const add = (a: string, b: string, factor: number) => {
    for (const [ga, gb] of pairUp(summary, a, b)) {
      outcomes.push(compareStats(ga.stats[key], gb.stats[key], 'higher', { factor }));
      texts.push(`${name(ga)} ${fmt(ga.stats[key], key)} ${factor > 1 ? '≫' : '≥'} ${name(gb)} ${fmt(gb.stats[key], key)}`);
    }
  };
  add('bone', 'pissa', 1);
  add(summary.some((g) => g.kind === 'pissa') ? 'pissa' : 'bone', 'lora', 2);
  return outcomes.length ? { kit: texts.join('; '), verdict: combine(outcomes) } : null;
};

/**
 * Seconds until the smoothed training loss reaches a target every run of both methods reaches: the highest final loss
 * among them (smoothing over the same window as the final loss, so each run's curve ends at or below it). Bone vs LoRA.
 */
const timeToTarget: Evaluator = ({ summary, runs }) => {
  const pairs = pairUp(summary, 'bone', 'lora');
  if (pairs.length !== 1) return null;
  const [a, b] = pairs[0];
  const okRuns = (g: SummaryRow) => runs.filter((r) => r.train_info.status === 'ok' && groupOf(r.run_info.variant) === g.group);
  const both = [...okRuns(a), ...okRuns(b)];
  const target = Math.max(...both.map((r) => windowLoss(r, 'last') ?? NaN));
  if (!Number.isFinite(target)) return null;
  const times = (g: SummaryRow) => summarize(okRuns(g).map((r) => timeToLoss(r, target, finalWindow(r)) ?? NaN));
  const ta = times(a);
  const tb = times(b);
  const fmtT = (s: Stat) => (s.n === 0 ? 'never' : `${s.mean.toPrecision(3)}${Number.isFinite(s.ci95) ? ` ± ${s.ci95.toPrecision(2)}` : ''} s`);
  const pct = Number.isFinite(ta.mean) && Number.isFinite(tb.mean) ? ` (${((1 - ta.mean / tb.mean) * 100).toFixed(0)}% less)` : '';
  return { kit: `time to train loss ${target.toFixed(3)}: ${name(a)} ${fmtT(ta)} vs ${name(b)} ${fmtT(tb)}${pct}`, verdict: combine([compareStats(ta, tb, 'lower')]) };
};

/** Bone vs LoRA at each learning rate; the verdict is taken at the highest lr present for both. */
function sensitivity(key: MetricKey): Evaluator {
  return ({ summary }) => {
    const pairs = pairUp(summary, 'bone', 'lora').filter(([a, b]) => a.lr === b.lr);
    const lrs = [...new Set(pairs.map(([a]) => a.lr))].sort((x, y) => x - y);
    if (lrs.length < 2) return null;
    const better = metricDef(key).better ?? 'higher';
    const kit = lrs
      .map((lr) => {
        const [a, b] = pairs.find(([p]) => p.lr === lr)!;
        return `lr ${formatLr(lr)}: Bone ${fmt(a.stats[key], key)} vs LoRA ${fmt(b.stats[key], key)}`;
      })
      .join('; ');
    const top = pairs.filter(([a]) => a.lr === lrs[lrs.length - 1]);
    return { kit: `${metricDef(key).title}: ${kit}`, verdict: combine(top.map(([a, b]) => compareStats(a.stats[key], b.stats[key], better))) };
  };
}

/** Bone at its largest vs smallest block size: better quality at more parameters / step time. */
function blockSize(key: MetricKey): Evaluator {
  return ({ summary }) => {
    // The sweep at one learning rate: the lr with the most distinct block sizes.
    const all = summary.filter((g) => g.kind === 'bone' && g.r !== null);
    const lrs = [...new Set(all.map((g) => g.lr))];
    const ranks = (lr: number) => new Set(all.filter((g) => g.lr === lr).map((g) => g.r)).size;
    const lr = lrs.sort((a, b) => ranks(b) - ranks(a))[0];
    const bone = all.filter((g) => g.lr === lr && g.label === 'bone').sort((x, y) => x.r! - y.r!);
    if (new Set(bone.map((g) => g.r)).size < 2) return null;
    const lo = bone[0];
    const hi = bone[bone.length - 1];
    const better = metricDef(key).better ?? 'higher';
    const row = (g: SummaryRow) => `r=${g.r}: ${fmt(g.stats[key], key)} (${formatCount(g.params)} params, ${fmt(g.stats.step_ms, 'step_ms')} ms)`;
    return { kit: `${metricDef(key).title}: ${bone.map(row).join('; ')}`, verdict: combine([compareStats(hi.stats[key], lo.stats[key], better)]) };
  };
}

interface ClaimDef {
  id: string;
  claim: string;
  paper: string;
  evaluate: Evaluator;
}

/** The headline claims, in the order of paper.md §5. */
export const CLAIMS: readonly ClaimDef[] = [
  { id: 'accuracy', claim: 'Accuracy at matched budget: Bone > PiSSA > OLoRA > LoRA', paper: 'GSM8K, LLaMA2-7B, Bone r=64 (87.0M) vs r=36 (89.9M): 48.16 > 43.89 > 42.93 > 40.75', evaluate: beats(['bone', 'pissa', 'olora', 'lora'], 'accuracy') },
  { id: 'accuracy-margin', claim: 'Bone beats PiSSA by more than 2 points (the run-to-run noise of PEFT’s benchmark)', paper: '+4.27 points (48.16 − 43.89)', evaluate: beats(['bone', 'pissa'], 'accuracy', { margin: 0.02 }) },
  { id: 'accuracy-loss', claim: 'Held-out loss at matched budget: Bone < PiSSA < OLoRA < LoRA (kit proxy for accuracy)', paper: 'not reported (accuracy only)', evaluate: beats(['bone', 'pissa', 'olora', 'lora'], 'eval_loss') },
  { id: 'bat-accuracy', claim: 'Bat accuracy ≥ Bone', paper: 'about +1 to +1.5 points (PEFT benchmark: 50.64 vs 49.96; 51.63 vs 50.72)', evaluate: beats(['bat', 'bone'], 'accuracy') },
  { id: 'bat-loss', claim: 'Bat held-out loss ≤ Bone (kit proxy for accuracy)', paper: 'not reported', evaluate: beats(['bat', 'bone'], 'eval_loss') },
  { id: 'bat-memory', claim: 'Bat needs more peak memory than Bone', paper: '+20–25% (PEFT: 23.5 vs 18.9 GiB)', evaluate: cost('bat', 'bone', 'peak_mb', 'more') },
  { id: 'bat-time', claim: 'Bat steps are slower than Bone’s', paper: 'about 1.5× (PEFT: 1433 vs 931 s)', evaluate: cost('bat', 'bone', 'step_ms', 'more') },
  { id: 'convergence-early', claim: 'Bone’s training loss is below LoRA’s and PiSSA’s early in training (first 10% of steps)', paper: 'first 100 steps: Bone < 0.4 after 5–8 steps, PiSSA 10–15, LoRA ≈40', evaluate: beats(['bone', 'pissa', 'lora'], 'early_loss', { against: 'first' }) },
  { id: 'convergence-final', claim: 'Bone’s training loss is below PiSSA’s and LoRA’s at the end (last 10% of steps)', paper: 'final loss ≈0.15 (Bone) vs ≈0.175 (PiSSA) vs ≈0.20 (LoRA)', evaluate: beats(['bone', 'pissa', 'lora'], 'final_loss', { against: 'first' }) },
  { id: 'convergence-time', claim: 'Bone reaches a target loss in less wall-clock time than LoRA', paper: '≈27% less (loss 0.20 at 112 vs 154 min)', evaluate: timeToTarget },
  { id: 'efficiency-time', claim: 'Bone steps are faster than LoRA’s at a similar parameter count', paper: 'PEFT: 3–10% faster (931 vs 958 s)', evaluate: cost('bone', 'lora', 'step_ms', 'less') },
  { id: 'efficiency-memory', claim: 'Bone needs less peak memory than LoRA', paper: 'PEFT: 18.9 vs 20.7 GiB', evaluate: cost('bone', 'lora', 'peak_mb', 'less') },
  { id: 'grad-norm', claim: 'Initial gradient norm: Bone ≥ PiSSA ≫ LoRA', paper: '≈25 vs 9–16 vs 2–6 at r=32–256 (DiSHA figure)', evaluate: gradNorm },
  { id: 'sensitivity', claim: 'Bone’s advantage over LoRA survives at LoRA-appropriate (higher) learning rates', paper: 'paper: lr 2e-5 only; PEFT at 1e-4: +1.7 points, within noise', evaluate: sensitivity('accuracy') },
  { id: 'sensitivity-loss', claim: 'Same, on held-out loss (kit proxy)', paper: 'not reported', evaluate: sensitivity('eval_loss') },
  { id: 'block-size', claim: 'Block size trade-off: a larger Bone r gives better accuracy at more cost', paper: 'sweep r ∈ {16..256}; ablation numbers not readable (UNVERIFIED)', evaluate: blockSize('accuracy') },
  { id: 'block-size-loss', claim: 'Same, on held-out loss (kit proxy)', paper: 'not reported', evaluate: blockSize('eval_loss') },
];

/**
 * Evaluate the claims on an experiment's summary and runs. With `ids`, exactly those claims are listed (a claim without
 * the data it needs says so); without, every claim the data supports.
 */
export function evaluateClaims(summary: readonly SummaryRow[], runs: readonly RunResult[], ids?: readonly string[]): ClaimResult[] {
  const unknown = (ids ?? []).filter((id) => !CLAIMS.some((c) => c.id === id));
  if (unknown.length) throw new Error(`claims: unknown claim id(s) ${unknown.join(', ')} (known: ${CLAIMS.map((c) => c.id).join(', ')})`);
  const out: ClaimResult[] = [];
  for (const c of CLAIMS) {
    if (ids && !ids.includes(c.id)) continue;
    const r = c.evaluate({ summary, runs });
    if (r) out.push({ id: c.id, claim: c.claim, paper: c.paper, kit: r.kit, verdict: r.verdict });
    else if (ids) out.push({ id: c.id, claim: c.claim, paper: c.paper, kit: 'not measured: this experiment lacks the methods or axes the claim needs', verdict: 'not measured' });
  }
  return out;
}
