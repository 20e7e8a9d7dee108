/**
 * `bonelab grid <experiment> [--preset quick]`: run an experiment grid (resumable, one worker process per run), then
 * build its report. <experiment> is a file or a name under experiments/.
 */
import * as path from 'node:path';
import { parseOverride } from '../experiments/config';
import { abortOnSignals, runGrid, gridSummaryText } from '../experiments/grid';
import { applyPreset, expandGrid, findExperimentFile, listExperimentFiles, readExperimentFile } from '../experiments/grid-spec';
import { buildReport } from '../report/build';
import { reportText } from '../report/console';
import { intOption, numberOption, parseCli } from './args';

const USAGE = `usage: bonelab grid <experiment> [options]

  <experiment>        experiments/<name>.json by name (${listExperimentFiles().join(', ')}), or a path
  --preset <p>        smoke | quick | full (default quick); results go to results/<name> (quick) or results/<name>-<p>
  --jobs <n>          concurrent worker processes (default min(2, cores))
  --retry-failed      re-run runs whose result says failed
  --set key=value     override the base config (repeatable), e.g. --set steps=50 --set optimizer.clipNorm=null
  --out <dir>         results root (default results)
  --timeout <s>       kill a run after this many seconds (recorded as failed)
  --list              print the cells and exit
  --no-report         skip building the report`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli(
    'grid',
    argv,
    {
      preset: { type: 'string', default: 'quick' },
      jobs: { type: 'string' },
      'retry-failed': { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: 'results' },
      timeout: { type: 'string' },
      list: { type: 'boolean', default: false },
      'no-report': { type: 'boolean', default: false },
    },
    USAGE,
    { positionals: true },
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.log(USAGE);
    return 2;
  }
  const jobs = intOption('grid', 'jobs', values.jobs, 1);
  const timeout = numberOption('grid', 'timeout', values.timeout, { exclusiveMin: 0 });

  const file = findExperimentFile(positionals[0]);
  const spec = applyPreset(readExperimentFile(file), values.preset!);
  const cells = expandGrid(spec, values.set!.map(parseOverride));
  if (values.list) {
    for (const c of cells) console.log(`${c.variant}  (${c.config.steps} steps)`);
    console.log(`${cells.length} runs`);
    return 0;
  }
  console.log(`${spec.name}: ${cells.length} runs from ${path.relative(process.cwd(), file)} (preset ${values.preset})${spec.description ? `\n  ${spec.description}` : ''}`);

  const cancel = abortOnSignals('cancelling: stopping the workers (finished runs are kept; run the same command to resume)');
  const summary = await runGrid(spec, cells, { resultsRoot: values.out!, jobs, retryFailed: values['retry-failed'], cellTimeoutS: timeout, signal: cancel.signal }).finally(cancel.dispose);
  console.log(gridSummaryText(summary));
  if (cancel.signal.aborted) return 130;
  if (!values['no-report'] && summary.counts.ok + summary.counts.diverged > 0) {
    const rep = buildReport(summary.expDir);
    console.log('');
    console.log(reportText(rep));
  }
  return summary.counts.failed > 0 ? 1 : 0;
}
