/**
 * `bonelab report <results/experiment> [...]`: build tables (CSV, Markdown, LaTeX), figures and report.html from the
 * run results in each folder, and print the summary and the paper-vs-kit verdicts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReport } from '../report/build';
import { reportText } from '../report/console';
import { parseCli } from './args';

const USAGE = `usage: bonelab report <results-folder> [<results-folder> ...]

Reads results/<experiment>/runs/*.json and writes results/<experiment>/{tables/*.csv,*.md,*.tex, figures/*.html,
report.html}. A folder without runs/ but with experiment subfolders (e.g. results/) reports each of them.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('report', argv, {}, USAGE, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { positionals } = parsed;
  if (positionals.length === 0) {
    console.log(USAGE);
    return 2;
  }
  const dirs: string[] = [];
  for (const p of positionals) {
    if (!fs.existsSync(p) || !fs.statSync(p).isDirectory()) throw new Error(`report: ${p} is not a folder`);
    if (fs.existsSync(path.join(p, 'runs'))) dirs.push(p);
    else {
      const subs = fs.readdirSync(p).map((d) => path.join(p, d)).filter((d) => fs.existsSync(path.join(d, 'runs')));
      if (subs.length === 0) throw new Error(`report: ${p} has no runs/ folder and no experiment folders with one`);
      dirs.push(...subs.sort());
    }
  }
  for (const d of dirs) {
    const rep = buildReport(d);
    console.log(`\n== ${rep.name} ==\n`);
    console.log(reportText(rep));
  }
  return 0;
}
