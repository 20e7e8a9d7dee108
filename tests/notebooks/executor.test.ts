/**
 * The headless executor: a tiny notebook runs cell by cell in its own process at the project root, and the saved
 * .ipynb carries the printed text, the HTML display and the result of importing ./lib; a failing cell stops the run
 * and is named (by the runner and by the CLI's exit status and message).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { newNotebook, readNotebook, serializeNotebook, sourceText, type CodeCell, type Output } from '../../lib/notebook/ipynb';
import { PROJECT_ROOT, runNotebook } from '../../lib/notebook/runner';
import { Rng } from '../../lib/util/random';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-nb-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, cells: string[]): string {
  const file = path.join(tmp, `${name}.ipynb`);
  fs.writeFileSync(file, serializeNotebook(newNotebook(cells)));
  return file;
}

function code(file: string): CodeCell[] {
  return readNotebook(file).cells.filter((c): c is CodeCell => c.cell_type === 'code');
}

function text(outputs: Output[], stream: 'stdout' | 'stderr'): string {
  return outputs.map((o) => (o.output_type === 'stream' && o.name === stream ? sourceText(o.text) : '')).join('');
}

test('executes print, HTML display, ./lib import and top-level await into a valid executed notebook', async () => {
  const file = write('ok', [
    '%md\n# a tiny notebook',
    'console.log("hello", 6 * 7);',
    'import * as tslab from "tslab";\ntslab.display.html("<b id=\\"x\\">bold</b>");\nconst d = tslab.newDisplay();\nd.text("first");\nd.text("updated");',
    'import { Rng } from "./lib/util/random";\nconsole.log(new Rng(7).next().toFixed(9));',
    'await new Promise((r) => setTimeout(r, 20));\nconsole.log(process.cwd() === ' + JSON.stringify(PROJECT_ROOT) + ', process.env.BONELAB_NB_TEST);',
  ]);
  process.env.BONELAB_NB_TEST = 'passed-through';
  const run = await runNotebook(file, { outDir: path.join(tmp, 'out') });
  delete process.env.BONELAB_NB_TEST;
  assert.ok(run.ok, `run failed: ${run.error ?? run.failed?.error}`);
  assert.equal(run.cells.map((c) => c.cell), [2, 3, 4, 5], 'one report per code cell, numbered among all cells');
  const cells = code(run.outFile);
  assert.equal(cells.map((c) => c.execution_count), [1, 2, 3, 4]);
  assert.is(text(cells[0].outputs, 'stdout'), 'hello 42\n');
  const html = cells[1].outputs.find((o) => o.output_type === 'display_data');
  assert.ok(html && html.output_type === 'display_data', 'HTML display captured');
  assert.is(sourceText(html.data['text/html']), '<b id="x">bold</b>');
  const shown = cells[1].outputs.filter((o) => o.output_type === 'display_data');
  assert.is(shown.length, 2, 'an updated display stays one output');
  assert.equal(shown[1].output_type === 'display_data' && shown[1].data['text/plain'], ['updated']);
  assert.is(text(cells[2].outputs, 'stdout'), `${new Rng(7).next().toFixed(9)}\n`, './lib import ran the kit code');
  assert.is(text(cells[3].outputs, 'stdout'), 'true passed-through\n', 'cwd is the project root and env passes through');
  // The source notebook is left untouched.
  assert.equal(code(file).map((c) => c.outputs.length), [0, 0, 0, 0]);
});

test('a failing cell stops the run, is named, and its error is saved', async () => {
  const file = write('fails', ['console.log("before");', 'const n = 1;\nthrow new Error("boom-" + n);', 'console.log("after");']);
  const run = await runNotebook(file, { outDir: path.join(tmp, 'out') });
  assert.not.ok(run.ok);
  assert.is(run.failed?.cell, 2);
  assert.match(run.failed?.error ?? '', /boom-1/);
  assert.is(run.failed?.head, 'const n = 1;');
  const cells = code(run.outFile);
  assert.is(text(cells[0].outputs, 'stdout'), 'before\n');
  const err = cells[1].outputs.find((o) => o.output_type === 'error');
  assert.ok(err && err.output_type === 'error' && err.evalue === 'boom-1' && err.ename === 'Error', JSON.stringify(cells[1].outputs));
  assert.equal([cells[2].execution_count, cells[2].outputs.length], [null, 0], 'cells after the failure do not run');
});

test('a notebook over its time limit is killed and reported as timed out', async () => {
  const file = write('slow', ['await new Promise((r) => setTimeout(r, 120000));']);
  const t0 = Date.now();
  const run = await runNotebook(file, { outDir: path.join(tmp, 'out'), timeoutSec: 8 });
  assert.not.ok(run.ok);
  assert.match(run.error ?? '', /timed out after 8s/);
  assert.ok(Date.now() - t0 < 60000, 'killed long before the cell would have finished');
});

test('CLI: a type error exits non-zero naming the notebook, the cell and the diagnostic', () => {
  const file = write('typeerr', ['const a = 1;', 'const s: number = "text";']);
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bin', 'bonelab.ts'), 'notebooks', file, '--out', path.join(tmp, 'out')], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  const all = res.stdout + res.stderr;
  assert.is(res.status, 1, all);
  assert.match(all, /typeerr\.ipynb failed in cell 2/);
  assert.match(all, /not assignable to type 'number'/);
  assert.match(res.stdout, /0 ok, 1 failed/);
});

/** Is `pid` a live process (a zombie, dead but not yet reaped by its new parent, counts as gone)? */
function alive(pid: number): boolean {
  if (fs.existsSync('/proc')) {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A cell that starts a long-lived child process (as a grid worker would) and writes its pid to `pidFile`. */
function sleeperCell(pidFile: string): string {
  return [
    'import { spawn } from "node:child_process";',
    'import * as fs from "node:fs";',
    'const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 120000)"], { stdio: "ignore" });',
    'sleeper.unref();',
    `fs.writeFileSync(${JSON.stringify(pidFile)}, String(sleeper.pid));`,
  ].join('\n');
}

test('processes a cell started do not outlive the notebook when it finishes', async () => {
  const pidFile = path.join(tmp, 'sleeper-done.pid');
  const run = await runNotebook(write('spawns', [sleeperCell(pidFile), 'console.log("done");']), { outDir: path.join(tmp, 'out') });
  assert.ok(run.ok, `run failed: ${run.error ?? run.failed?.error}`);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  const ended = await gone(pid);
  if (!ended) process.kill(pid, 'SIGKILL');
  assert.ok(ended, `child process ${pid} still running after the notebook finished`);
});

test('SIGTERM to the runner ends the notebook and what it started, exiting 143 (128 + 15)', async () => {
  const pidFile = path.join(tmp, 'sleeper-term.pid');
  const nb = write('term', [sleeperCell(pidFile), 'await new Promise((r) => setTimeout(r, 120000));']);
  const script = path.join(tmp, 'run-one.ts');
  fs.writeFileSync(script, [
    `import { runNotebook } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lib', 'notebook', 'runner'))};`,
    `void runNotebook(${JSON.stringify(nb)}, { outDir: ${JSON.stringify(path.join(tmp, 'out'))}, onCellStart: (cell) => console.log('cell ' + cell) });`,
  ].join('\n'));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the notebook never reached cell 2: ${out}`)), 60000);
    const onData = (b: Buffer) => {
      out += b.toString('utf8');
      if (/cell 2\n/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  }).catch((e) => {
    child.kill('SIGTERM'); // the runner's own handler then ends the notebook's process group
    throw e;
  });
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  child.kill('SIGTERM');
  assert.is(await exited, 143, out);
  const ended = await gone(pid);
  if (!ended) process.kill(pid, 'SIGKILL');
  assert.ok(ended, `child process ${pid} still running after the runner was terminated`);
});

test.run();
