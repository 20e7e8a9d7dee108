#!/usr/bin/env -S node --import tsx
/**
 * The bonelab command: `npm run -s bonelab -- <subcommand> [options]`. Each subcommand lives in lib/cli/<name>.ts
 * and exports `run(argv): Promise<number>` (the exit code); they load lazily so `params` does not pay for tfjs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const COMMANDS: Record<string, string> = {
  conformance: 'run the PEFT conformance vectors in a folder against the kit',
  params: 'trainable parameter count of an adapter on a model (preset or config.json)',
  forward: 'logits of a checkpoint folder for given input ids',
  pretrain: "pretrain (or load from cache) the kit's tiny base model",
  train: 'fine-tune one experiment config',
  grid: 'run an experiment grid (resumable)',
  report: 'build tables, figures and report.html from a results folder',
  bench: 'benchmark every method at matched budget, and one adapter layer alone',
  datasets: 'dataset tools: `datasets fetch <name> --out <dir>`',
  notebooks: 'execute the notebooks headless and save the executed copies',
  kernel: 'install the project-local tslab Jupyter kernelspec: `kernel install`',
  main: 'the headline reproduction (what `npm start` runs)',
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: bonelab <command> [options]', '', ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 1;
  }
  if (!(cmd in COMMANDS)) {
    console.error(`bonelab: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  const file = path.join(__dirname, '..', 'lib', 'cli', `${cmd}.ts`);
  if (!fs.existsSync(file)) {
    console.error(`bonelab: command '${cmd}' is not available in this build`);
    return 2;
  }
  const mod = require(file) as { run: (argv: string[]) => Promise<number> };
  return mod.run(rest);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error;
    console.error(`bonelab: ${e?.message ?? String(err)}`);
    if (process.env.BONELAB_DEBUG) console.error(e?.stack);
    // a bad option value is a usage error, like an unknown option (exit 2); anything else failed while working (1)
    process.exit(e?.name === 'CliUsageError' ? 2 : 1);
  },
);
