/**
 * `npm start` = `bonelab main [--preset quick|full]`: the headline reproduction. Pretrains (or loads) the kit's base
 * model, fine-tunes Bone, Bat, LoRA, PiSSA (matched budget) and full fine-tuning over 3 seeds in two worker processes,
 * evaluates, and writes tables, figures, the paper-vs-kit verdicts and report.html under results/main/. Resumes: a
 * second run reuses finished runs (--fresh starts over).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../backend';
import { abortOnSignals, runGrid, gridSummaryText } from '../experiments/grid';
import { applyPreset, expandGrid, findExperimentFile, readExperimentFile, type GridCell } from '../experiments/grid-spec';
import { countTrainable, targetShapes } from '../experiments/budget';
import { buildReport } from '../report/build';
import { formatCount } from '../report/tables';
import { reportText } from '../report/console';
import { formatDuration } from '../util/progress';
import { intOption, parseCli } from './args';

const USAGE = `usage: npm start [-- --preset quick|full] [--jobs N] [--out DIR] [--fresh] [--retry-failed]

  --preset quick   (default) 15 runs, under 10 minutes on 2 cores including pretraining; results/main/
  --preset full    5 seeds, 6x the steps, 4x the data (about 50 minutes); results/main-full/
  --preset smoke   seconds-long pipeline check (not a measurement); results/main-smoke/
  --jobs N         worker processes (default min(2, cores))
  --fresh          delete earlier results of this preset first (default: resume, reusing finished runs)
  --retry-failed   re-run runs recorded as failed`;

/** Per-run time limit: a hung worker cannot eat the whole budget. */
const CELL_TIMEOUT_S: Record<string, number> = { smoke: 120, quick: 300, full: 3600 };

/** Pretrain or load every kit base the cells use, once, here (workers then find it in the cache). */
async function ensureBases(cells: GridCell[]): Promise<void> {
  const { ensureBaseModel, readBaseInfo } = await import('../train/pretrain');
  const { KIT_BASE_SEED } = await import('../train/run');
  const seen = new Set<string>();
  for (const c of cells) {
    const m = c.config.model;
    const key = `${m.arch}/${m.preset}`;
    if (m.source !== 'kit-base' || seen.has(key)) continue;
    seen.add(key);
    const dir = await ensureBaseModel({
      arch: m.arch,
      preset: m.preset,
      seed: KIT_BASE_SEED,
      progress: true,
      log: (l) => console.log(`  ${l}`),
    });
    // whether it was built here, built by another process while this one waited, or cached: say what it is
    const info = readBaseInfo(dir);
    console.log(`  base ${key} loaded from ${path.relative(process.cwd(), dir)}: ${info.num_params.toLocaleString('en-US')} parameters, held-out loss ${info.initial_val_loss.toFixed(2)} -> ${info.final_val_loss.toFixed(2)} after ${info.steps} pretraining steps`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('main', argv, {
    preset: { type: 'string', default: 'quick' },
    jobs: { type: 'string' },
    out: { type: 'string', default: 'results' },
    fresh: { type: 'boolean', default: false },
    'retry-failed': { type: 'boolean', default: false },
  }, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const t0 = Date.now();
  const jobs = intOption('main', 'jobs', values.jobs, 1) ?? Math.min(2, os.cpus().length);
  const preset = values.preset!;
  const spec = applyPreset(readExperimentFile(findExperimentFile('main')), preset);
  const cells = expandGrid(spec);
  const expDir = path.join(values.out!, spec.name);
  if (values.fresh) fs.rmSync(expDir, { recursive: true, force: true });

  const methods = [...new Set(cells.map((c) => c.label))];
  const seeds = [...new Set(cells.map((c) => c.config.seed))];
  const first = cells[0].config;
  console.log(`bonelab: Bone (arXiv 2409.15371) headline reproduction, preset ${preset}`);
  console.log(`  ${methods.join(', ')} x ${seeds.length} seeds = ${cells.length} runs of ${first.steps} steps on the ${first.model.preset} ${first.model.arch} base, ${jobs} worker processes`);
  const shapes = targetShapes(first);
  const budget = cells.filter((c) => c.config.seed === seeds[0]).map((c) => `${c.variant.replace(/-lr.*$/, '')} ${c.config.adapter.kind === 'full' ? 'all weights' : formatCount(countTrainable(c.config.adapter, shapes))}`);
  console.log(`  trainable parameters on ${shapes.length} linears (${first.targets === 'all-linear' ? 'all-linear' : first.targets.join(', ')}): ${budget.join(', ')}`);

  console.log('\n[1/3] base model');
  const backend = await initBackend();
  console.log(`  backend ${backend}`);
  await ensureBases(cells);

  console.log(`\n[2/3] fine-tuning (${formatDuration((Date.now() - t0) / 1000)} elapsed)`);
  const cancel = abortOnSignals('cancelling: stopping the workers (finished runs are kept; `npm start` again resumes)');
  const summary = await runGrid(spec, cells, {
    resultsRoot: values.out!,
    jobs,
    retryFailed: values['retry-failed'],
    cellTimeoutS: CELL_TIMEOUT_S[preset] ?? 3600,
    signal: cancel.signal,
  }).finally(cancel.dispose);
  console.log(gridSummaryText(summary));
  if (cancel.signal.aborted) return 130;

  console.log(`\n[3/3] report (${formatDuration((Date.now() - t0) / 1000)} elapsed)\n`);
  const rep = buildReport(summary.expDir);
  console.log(reportText(rep));
  console.log(`\nTotal time ${formatDuration((Date.now() - t0) / 1000)}. Open ${path.join(path.relative(process.cwd(), summary.expDir), 'report.html')} in a browser (works offline).`);
  return summary.counts.failed > 0 ? 1 : 0;
}
