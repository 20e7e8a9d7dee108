/**
 * Argument handling shared by the subcommands in lib/cli: one parse-or-usage preamble (parseCli) and readers for
 * integer and number options (intOption, numberOption), so every command reports usage errors the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The `options` field of node:util's parseArgs config: `{ name: { type: 'string' | 'boolean', ... } }`. */
export type CliOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The config parseCli hands to parseArgs; spelled out as a type so the parsed values keep their option types. */
type CliConfig<O extends CliOptionsConfig, P extends boolean> = { args: string[]; options: O; allowPositionals: P; strict: true };

/** What parseArgs returns for these options: `values.foo` is string / boolean / string[] as declared. */
export type CliParsed<O extends CliOptionsConfig, P extends boolean = false> = ReturnType<typeof parseArgs<CliConfig<O, P>>>;

const HELP = { type: 'boolean', short: 'h' } as const;

/** A bad option value (e.g. `--jobs x`): the bonelab command prints the message and exits with 2, as for an unknown option. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/**
 * Parse a subcommand's argv strictly, with `--help`/`-h` added to its options. Returns the parsed
 * `{ values, positionals }`, or an exit code after printing: 2 with `<name>: <message>` and the usage on stderr for an
 * unknown option, a missing option value or a stray positional; 0 with the usage on stdout for --help.
 * Positionals are accepted only with `{ positionals: true }`; checking how many is left to the command.
 */
export function parseCli<O extends CliOptionsConfig, P extends boolean = false>(
  name: string,
  argv: string[],
  options: O,
  usage: string,
  opts: { positionals?: P } = {},
): CliParsed<O, P> | number {
  if ('help' in options) throw new Error(`parseCli(${name}): options must not define 'help' (parseCli adds --help/-h itself)`);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: HELP }, allowPositionals: opts.positionals ?? false, strict: true });
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  // `help` has no default, so past this point it is absent: the values are exactly what O declares.
  return parsed as unknown as CliParsed<O, P>;
}

function kindOf(min: number | undefined): string {
  if (min === undefined) return 'an integer';
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  return `an integer >= ${min}`;
}

/**
 * An integer option's value (undefined when the option was not given). Anything else, including a blank value or
 * one below `min`, throws a CliUsageError `<cmd>: --<name> must be a positive integer, got '<value>'` (wording follows
 * `min`).
 */
export function intOption(cmd: string, name: string, value: string, min?: number): number;
export function intOption(cmd: string, name: string, value: string | undefined, min?: number): number | undefined;
export function intOption(cmd: string, name: string, value: string | undefined, min?: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  // Number('') and Number(' ') are 0: a blank value is not a number.
  if (value.trim() === '' || !Number.isInteger(n) || (min !== undefined && n < min))
    throw new CliUsageError(`${cmd}: --${name} must be ${kindOf(min)}, got '${value}'`);
  return n;
}

/** Bounds of a numberOption: `min` inclusive, `exclusiveMin` exclusive. */
export interface NumberBounds {
  min?: number;
  exclusiveMin?: number;
}

function numberKind(b: NumberBounds): string {
  const parts = [b.min !== undefined ? `>= ${b.min}` : null, b.exclusiveMin !== undefined ? `> ${b.exclusiveMin}` : null].filter((p) => p !== null);
  return parts.length ? `a number ${parts.join(' and ')}` : 'a number';
}

/**
 * A finite number option's value (undefined when the option was not given). Anything else, including a blank value or
 * one outside the bounds, throws a CliUsageError `<cmd>: --<name> must be a number > 0, got '<value>'` (wording
 * follows the bounds).
 */
export function numberOption(cmd: string, name: string, value: string, bounds?: NumberBounds): number;
export function numberOption(cmd: string, name: string, value: string | undefined, bounds?: NumberBounds): number | undefined;
export function numberOption(cmd: string, name: string, value: string | undefined, bounds: NumberBounds = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const { min, exclusiveMin } = bounds;
  // as in intOption, a blank value is not 0
  if (value.trim() === '' || !Number.isFinite(n) || (min !== undefined && n < min) || (exclusiveMin !== undefined && n <= exclusiveMin))
    throw new CliUsageError(`${cmd}: --${name} must be ${numberKind(bounds)}, got '${value}'`);
  return n;
}
