/** The shared CLI preamble (parseCli) and the integer / number option readers (intOption, numberOption) every subcommand uses. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intOption, numberOption, parseCli, type CliOptionsConfig } from '../../lib/cli/args';
import { captureConsole, throwsWith } from '../util';

const USAGE = 'usage: bonelab demo [--n N] [--flag] <file>';
const OPTIONS = { n: { type: 'string' }, flag: { type: 'boolean', default: false }, tag: { type: 'string', multiple: true, default: [] } } satisfies CliOptionsConfig;

test('parseCli: values with defaults and positionals; usage errors exit 2 naming the command; --help/-h exit 0', async () => {
  const ok = await captureConsole(() => parseCli('demo', ['a.json', '--n', '3', '--tag', 'x', '--tag', 'y'], OPTIONS, USAGE, { positionals: true }));
  assert.ok(typeof ok.result !== 'number', 'parsed');
  if (typeof ok.result === 'number') return;
  assert.equal({ ...ok.result.values }, { n: '3', flag: false, tag: ['x', 'y'] }, 'no help key, defaults filled');
  assert.equal(ok.result.positionals, ['a.json']);
  assert.is(ok.out + ok.err, '', 'silent on success');

  for (const argv of [['--bogus'], ['--n'], ['stray']]) {
    const bad = await captureConsole(() => parseCli('demo', argv, OPTIONS, USAGE));
    assert.is(bad.result, 2, `${argv.join(' ')}: exit code`);
    assert.is(bad.out, '', `${argv.join(' ')}: nothing on stdout`);
    assert.ok(bad.err.startsWith('demo: ') && bad.err.endsWith(`\n${USAGE}\n`), `${argv.join(' ')}: ${JSON.stringify(bad.err)}`);
  }
  assert.ok((await captureConsole(() => parseCli('demo', ['--bogus'], OPTIONS, USAGE))).err.includes("'--bogus'"), 'names the option');

  for (const h of ['--help', '-h']) {
    const help = await captureConsole(() => parseCli('demo', ['--n', '3', h], OPTIONS, USAGE));
    assert.is(help.result, 0, h);
    assert.is(help.out, `${USAGE}\n`, `${h}: usage on stdout`);
    assert.is(help.err, '');
  }
  throwsWith(() => parseCli('demo', [], { help: { type: 'boolean' } }, USAGE), ["'help'"], 'a command may not define its own help');
});

test('intOption: absent is undefined; integers at or above min pass; anything else names command, flag and value', () => {
  assert.is(intOption('demo', 'n', undefined, 1), undefined);
  assert.is(intOption('demo', 'n', '7', 1), 7);
  assert.is(intOption('demo', 'seed', '0', 0), 0);
  assert.is(intOption('demo', 'seed', '-4'), -4, 'no min: any integer');
  throwsWith(() => intOption('demo', 'n', '0', 1), ["demo: --n must be a positive integer, got '0'"], 'below 1');
  throwsWith(() => intOption('demo', 'n', '2.5', 1), ["--n must be a positive integer, got '2.5'"], 'fraction');
  throwsWith(() => intOption('demo', 'seed', '-1', 0), ["demo: --seed must be a non-negative integer, got '-1'"], 'negative');
  throwsWith(() => intOption('demo', 'seed', ' ', 0), ["got ' '"], 'blank is not 0');
  throwsWith(() => intOption('demo', 'seed', 'x'), ["demo: --seed must be an integer, got 'x'"], 'not a number');
  throwsWith(() => intOption('demo', 'k', '2', 3), ["--k must be an integer >= 3, got '2'"], 'other minimum');
});

test('numberOption: absent is undefined; finite numbers within the bounds pass; anything else names command, flag and value', () => {
  assert.is(numberOption('demo', 'alpha', undefined), undefined);
  assert.is(numberOption('demo', 'alpha', '2.5'), 2.5);
  assert.is(numberOption('demo', 'alpha', '-3e-2'), -0.03, 'no bounds: any finite number');
  assert.is(numberOption('demo', 'timeout', '0', { min: 0 }), 0, 'min is inclusive');
  assert.is(numberOption('demo', 'timeout', '0.5', { exclusiveMin: 0 }), 0.5);
  throwsWith(() => numberOption('demo', 'timeout', '0', { exclusiveMin: 0 }), ["demo: --timeout must be a number > 0, got '0'"], 'exclusive minimum');
  throwsWith(() => numberOption('demo', 'timeout', '-1', { min: 0 }), ["demo: --timeout must be a number >= 0, got '-1'"], 'below min');
  throwsWith(() => numberOption('demo', 'timeout', '', { min: 0 }), ["--timeout must be a number >= 0, got ''"], 'blank is not 0');
  throwsWith(() => numberOption('demo', 'alpha', '  '), ["demo: --alpha must be a number, got '  '"], 'whitespace is not 0');
  throwsWith(() => numberOption('demo', 'alpha', 'x'), ["demo: --alpha must be a number, got 'x'"], 'not a number');
  throwsWith(() => numberOption('demo', 'alpha', 'Infinity'), ["got 'Infinity'"], 'not finite');
  throwsWith(() => numberOption('demo', 'alpha', 'NaN'), ["got 'NaN'"], 'NaN');
  throwsWith(() => numberOption('demo', 'x', '1', { min: 0, exclusiveMin: 1 }), ["--x must be a number >= 0 and > 1, got '1'"], 'both bounds');
});

test.run();
