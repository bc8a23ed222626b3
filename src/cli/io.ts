// Command-line plumbing shared by every command: common flags, output (human or --json), one-line
// errors with the right exit code, atomic file writes.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InputError, isCustodyError, writeFileAtomic as writeAtomic } from '../core/index.ts';

export interface CommonOptions {
  json?: boolean;
  debug?: boolean;
}

/** Adds --json and --debug and an example to a command's help. */
export function common(command: Command, ...examples: string[]): Command {
  command.addOption(new Option('--json', 'machine-readable JSON output on stdout'));
  command.addOption(new Option('--debug', 'print stack traces for errors'));
  if (examples.length > 0) command.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  return command;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints either the JSON value (--json) or the human lines. */
export function output(options: CommonOptions, json: unknown, human: string | string[]): void {
  if (options.json === true) printJson(json);
  else {
    const lines = Array.isArray(human) ? human : [human];
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  }
}

/** Writes a file atomically (temp file, fsync, rename), with the given mode. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  writeAtomic(path, data, { mode });
}

export function readFileOrFail(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new InputError('FILE_UNREADABLE', `cannot read ${what} ${path} (${code})`, { cause: e });
  }
}

/** The passphrase named by --passphrase-env, or undefined. */
export function passphraseFromEnv(variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = process.env[variable];
  if (value === undefined) throw new InputError('USAGE', `environment variable ${variable} (from --passphrase-env) is not set`);
  return value;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError('USAGE', `'${value}' is not a positive integer`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Reports an error on one line (a stack only with --debug) and returns the exit code. */
export function reportError(e: unknown, debug: boolean): number {
  if (isCustodyError(e)) {
    process.stderr.write(`custody: ${e.message} [${e.code}]\n`);
    if (debug && e.stack !== undefined) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`custody: internal error: ${message} (run again with --debug and report it)\n`);
  if (debug && e instanceof Error && e.stack !== undefined) process.stderr.write(`${e.stack}\n`);
  return 2;
}
