/**
 * A stand-in for the training worker, for grid tests: same command line (--config, --out) and progress protocol,
 * no training. The cell's label picks the behaviour: `crash` exits non-zero with a message on stderr and no result,
 * `hang` never finishes, `diverge` writes a diverged result, anything else a plausible ok result.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { ExperimentConfig } from '../../lib/experiments/types';
import { parseVariant } from '../../lib/experiments/naming';
import { writeRunResult } from '../../lib/results/write';
import { fakeRun } from '../report/fake-runs';

const { values } = parseArgs({ options: { config: { type: 'string' }, out: { type: 'string' } } });
const cfg = JSON.parse(fs.readFileSync(values.config!, 'utf8')) as ExperimentConfig;
const label = parseVariant(cfg.variant)?.label ?? '';

if (label === 'crash') {
  process.stderr.write(`loading...\nboom: simulated crash in ${cfg.variant}\n`);
  process.exit(3);
}
if (label === 'hang') setInterval(() => undefined, 1000);
else {
  for (let s = 1; s <= cfg.steps; s++) console.log(`@@progress ${JSON.stringify({ step: s, status: `loss ${(2 / s).toFixed(3)}` })}`);
  const r = fakeRun({ adapter: cfg.adapter, seed: cfg.seed, steps: cfg.steps, status: label === 'diverge' ? 'diverged' : 'ok', finalLoss: 1, accuracy: 0.4, stepMs: 10, peakMb: 100, gradNorm: 1 });
  r.run_info = { ...r.run_info, experiment: cfg.name, variant: cfg.variant, config: cfg };
  writeRunResult(values.out!, r);
}
