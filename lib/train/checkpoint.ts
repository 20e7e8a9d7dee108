/**
 * Trainer checkpoints: the trainable tensors and the AdamW moments in one safetensors file, the loop state (step,
 * metrics, a fingerprint of the run's config) in JSON beside it. Resuming restores both, and because batches are
 * indexed by step and inits are seeded, a resumed run continues exactly as an uninterrupted one would.
 *
 *   <dir>/trainer.safetensors   param/<name>, adam_m/<name>, adam_v/<name>; metadata {format, step}
 *   <dir>/trainer_state.json    TrainerState
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { StepMetrics } from '../experiments/types';
import { readSafetensors, writeSafetensors, type TensorMap } from '../io/safetensors';
import { readJson, writeJsonAtomic } from '../util/fs';
import type { AdamW, TrainParam } from './optimizer';

export const CHECKPOINT_FORMAT = 'bonelab-trainer-v1';
export const TENSORS_FILE = 'trainer.safetensors';
export const STATE_FILE = 'trainer_state.json';

export interface TrainerState {
  format: string;
  /** Optimiser steps completed. */
  step: number;
  /** Metrics of every completed step, so a resumed run still reports the whole curve. */
  metrics: StepMetrics[];
  /** Parameter names in order, for a clear error when a checkpoint is resumed on a different adapter. */
  params: string[];
  /** Caller's fingerprint of the run (config hash); resuming with a different one is refused. */
  fingerprint: string;
  /** Training wall time spent before this checkpoint, seconds. */
  wallS: number;
}

/** Write a checkpoint atomically (tensors first, then the JSON that names the step they belong to). */
export function saveCheckpoint(dir: string, params: TrainParam[], opt: AdamW, state: Omit<TrainerState, 'format' | 'params'>): void {
  const os = opt.getState();
  if (os.t !== state.step) throw new Error(`checkpoint: optimizer has taken ${os.t} steps but the trainer is at step ${state.step}`);
  const tensors: TensorMap = new Map();
  for (const p of params) {
    tensors.set(`param/${p.name}`, { shape: p.variable.shape.slice(), data: p.variable.dataSync() as Float32Array });
    tensors.set(`adam_m/${p.name}`, os.m.get(p.name)!);
    tensors.set(`adam_v/${p.name}`, os.v.get(p.name)!);
  }
  writeSafetensors(path.join(dir, TENSORS_FILE), tensors, { format: CHECKPOINT_FORMAT, step: String(state.step) });
  const full: TrainerState = { format: CHECKPOINT_FORMAT, params: params.map((p) => p.name), ...state };
  writeJsonAtomic(path.join(dir, STATE_FILE), full);
}

/** Whether `dir` holds a complete checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, TENSORS_FILE)) && fs.existsSync(path.join(dir, STATE_FILE));
}

/**
 * Restore parameters and optimiser moments from `dir` into `params` / `opt`; returns the loop state. Every error names
 * the checkpoint and what does not match (format, fingerprint, parameter names, shapes, step).
 */
export function loadCheckpoint(dir: string, params: TrainParam[], opt: AdamW, fingerprint: string): TrainerState {
  const where = `checkpoint ${dir}`;
  if (!hasCheckpoint(dir)) throw new Error(`${where}: missing ${TENSORS_FILE} or ${STATE_FILE}`);
  const state = readJson<TrainerState>(path.join(dir, STATE_FILE));
  if (state.format !== CHECKPOINT_FORMAT) throw new Error(`${where}: format ${JSON.stringify(state.format)}, expected ${CHECKPOINT_FORMAT}`);
  if (state.fingerprint !== fingerprint)
    throw new Error(`${where}: was written by a different run configuration (fingerprint ${state.fingerprint}, this run ${fingerprint})`);
  const want = params.map((p) => p.name).join('\n');
  if (state.params.join('\n') !== want) {
    const missing = params.map((p) => p.name).filter((n) => !state.params.includes(n));
    throw new Error(`${where}: parameters differ from this model's (${missing.length ? `missing ${missing.slice(0, 3).join(', ')}` : 'different order or extra names'})`);
  }
  const { tensors, metadata } = readSafetensors(path.join(dir, TENSORS_FILE));
  if (metadata?.step !== String(state.step))
    throw new Error(`${where}: ${TENSORS_FILE} is from step ${metadata?.step ?? '?'} but ${STATE_FILE} says step ${state.step} (interrupted write?)`);
  const get = (key: string, shape: number[]) => {
    const t = tensors.get(key);
    if (!t) throw new Error(`${where}: tensor '${key}' is missing`);
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`${where}: tensor '${key}' has shape [${t.shape}], expected [${shape}]`);
    return t;
  };
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  const v = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const p of params) {
    const shape = p.variable.shape;
    const w = get(`param/${p.name}`, shape);
    m.set(p.name, get(`adam_m/${p.name}`, shape));
    v.set(p.name, get(`adam_v/${p.name}`, shape));
    tf.tidy(() => p.variable.assign(tf.tensor(w.data, shape)));
  }
  opt.setState({ t: state.step, m, v });
  return state;
}
