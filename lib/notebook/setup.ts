/**
 * What every numbered notebook starts with: its setting (smoke when BONELAB_SMOKE=1, else full), and its results
 * folder results/nb-<id>/<setting>/ (relative to the project root, which is the kernel's working directory).
 * Notebook tables are written there and read back before they are shown, so what is displayed is what was saved.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GridAxes } from '../experiments/grid-spec';
import { readJson, writeJsonAtomic } from '../util/fs';

export type NotebookSetting = 'smoke' | 'full';

export interface NotebookContext {
  /** `00-quickstart`. */
  id: string;
  setting: NotebookSetting;
  smoke: boolean;
  /** results/nb-<id>/<setting> (absolute). */
  resultsDir: string;
  /** Axes laid over every grid this notebook runs (before the notebook's own axes). */
  axes: GridAxes;
}

const NOTEBOOK_ID = /^\d\d-[a-z0-9-]+$/;

/** The smoke setting is chosen by the environment so CI and `npm run notebooks` can pick it without editing cells. */
export function isSmoke(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.BONELAB_SMOKE;
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new Error(`BONELAB_SMOKE=${JSON.stringify(v)}: expected 1 (smoke setting) or 0/unset (full setting)`);
}

export function notebookContext(id: string, env: NodeJS.ProcessEnv = process.env): NotebookContext {
  if (!NOTEBOOK_ID.test(id)) throw new Error(`notebook id ${JSON.stringify(id)}: expected NN-name (e.g. 00-quickstart)`);
  const smoke = isSmoke(env);
  const setting: NotebookSetting = smoke ? 'smoke' : 'full';
  const resultsDir = path.resolve('results', `nb-${id}`, setting);
  fs.mkdirSync(resultsDir, { recursive: true });
  // Smoke runs seed 0 only: the notebook smoke must stay under a minute (the CLI smoke presets keep two seeds for CI).
  return { id, setting, smoke, resultsDir, axes: smoke ? { seed: [0] } : {} };
}

/** One line for the notebook's output: setting and where results go. */
export function describeContext(ctx: NotebookContext): string {
  const where = path.relative(process.cwd(), ctx.resultsDir) || '.';
  return `${ctx.id}: ${ctx.setting} setting${ctx.smoke ? ' (BONELAB_SMOKE=1)' : ''}; results in ${where}/`;
}

/** Write rows as <resultsDir>/<name>.json and return them as read back from the file. */
export function saveRows<T>(ctx: NotebookContext, name: string, rows: T[]): T[] {
  const file = path.join(ctx.resultsDir, `${name}.json`);
  writeJsonAtomic(file, rows);
  return readJson<T[]>(file);
}
