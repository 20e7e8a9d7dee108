/**
 * Child-process entry for one method of the benchmark, so each method's peak RSS is its own:
 * `node --import tsx lib/bench/method-worker.ts '<MethodBenchOptions as JSON>'` prints one JSON row on stdout.
 */
import { initBackend } from '../backend';
import { benchMethod, type MethodBenchOptions } from './methods';

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error('method-worker: expected the options as a JSON argument');
  await initBackend();
  const row = benchMethod(JSON.parse(arg) as MethodBenchOptions);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.message ?? String(e)}\n`);
  process.exit(1);
});
