/**
 * Learning-rate schedules with linear warmup, as pure functions of the step (0-based: the lr used by the first
 * optimiser step is lrAt(0)). The shapes of transformers' get_{constant,cosine,linear}_schedule_with_warmup, except
 * that warmup starts one step later so the first step never has lr 0:
 *   1. warmup: lr * (step + 1) / warmupSteps for step < warmupSteps,
 *   2. constant: lr,
 *   3. cosine: lr * 0.5 * (1 + cos(pi * progress)), progress = (step - warmup) / (total - warmup) in [0, 1),
 *   4. linear: lr * (1 - progress).
 */
import type { ExperimentConfig } from '../experiments/types';

export type ScheduleConfig = ExperimentConfig['schedule'];

const KINDS = ['constant', 'cosine', 'linear'] as const;

/** Throw naming the field when the schedule cannot be applied to `totalSteps`. */
export function validateSchedule(s: ScheduleConfig, totalSteps: number): void {
  if (!KINDS.includes(s.kind)) throw new Error(`schedule.kind: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(s.kind)}`);
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) throw new Error(`schedule.warmupSteps: expected an integer >= 0, got ${s.warmupSteps}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`steps: expected an integer >= 1, got ${totalSteps}`);
  if (s.warmupSteps > totalSteps) throw new Error(`schedule.warmupSteps: ${s.warmupSteps} exceeds steps=${totalSteps}`);
}

/** Learning rate for optimiser step `step` (0-based) of `totalSteps`. */
export function lrAt(baseLr: number, s: ScheduleConfig, step: number, totalSteps: number): number {
  if (step < s.warmupSteps) return (baseLr * (step + 1)) / s.warmupSteps;
  if (s.kind === 'constant') return baseLr;
  const span = Math.max(1, totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  if (s.kind === 'cosine') return baseLr * 0.5 * (1 + Math.cos(Math.PI * progress));
  return baseLr * (1 - progress);
}
