// The custody command line: the composition root for CLI commands. Commands are registered from
// an explicit list; each lives in its own file and holds no domain logic.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { attestCommand } from './attest.ts';
import { digestCommand } from './digest.ts';
import { reportError } from './io.ts';
import { keyCommand } from './key.ts';
import { verifyEnvelopeCommand } from './verify-envelope.ts';

const commands: (() => Command)[] = [keyCommand, digestCommand, attestCommand, verifyEnvelopeCommand];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function exitOverrideAll(command: Command): void {
  command.exitOverride();
  command.commands.forEach(exitOverrideAll);
}

export function buildProgram(): Command {
  const program = new Command('custody')
    .description('custody secures a software supply chain end to end: attest, verify, sign, log, distribute.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .enablePositionalOptions();
  for (const make of commands) program.addCommand(make());
  exitOverrideAll(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors are exit 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    return reportError(e, debug);
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
