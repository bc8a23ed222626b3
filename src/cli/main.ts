// The custody command line: the composition root for CLI commands. Commands are registered from
// an explicit list; each lives in its own file and holds no domain logic. A command's module is
// loaded only when that command runs (the full list only for --help), so `custody key show` does
// not pay for loading the server, the SBOM library or the CEL engine.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { reportError } from './io.ts';

type CommandLoader = () => Promise<Command>;

/** Every command, by name, in the order `custody --help` lists them. */
const commands: readonly (readonly [string, CommandLoader])[] = [
  ['key', async () => (await import('./key.ts')).keyCommand()],
  ['digest', async () => (await import('./digest.ts')).digestCommand()],
  ['attest', async () => (await import('./attest.ts')).attestCommand()],
  ['verify-envelope', async () => (await import('./verify-envelope.ts')).verifyEnvelopeCommand()],
  ['run', async () => (await import('./run.ts')).runCommand()],
  ['record', async () => (await import('./record.ts')).recordCommand()],
  ['layout', async () => (await import('./layout.ts')).layoutCommand()],
  ['verify', async () => (await import('./verify.ts')).verifyCommand()],
  ['rebuild', async () => (await import('./rebuild.ts')).rebuildCommand()],
  ['rebuilder', async () => (await import('./rebuilder.ts')).rebuilderCommand()],
  ['sbom', async () => (await import('./sbom.ts')).sbomCommand()],
  [
    'scan',
    async () => {
      const [{ scanCommand }, { scanSecretsCommand }] = await Promise.all([import('./scan.ts'), import('./scan-secrets.ts')]);
      return scanCommand(scanSecretsCommand());
    },
  ],
  ['vex', async () => (await import('./vex.ts')).vexCommand()],
  ['vuln', async () => (await import('./vuln.ts')).vulnCommand()],
  ['source', async () => (await import('./source.ts')).sourceCommand()],
  ['hooks', async () => (await import('./hooks.ts')).hooksCommand()],
  ['sign', async () => (await import('./sign.ts')).signCommand()],
  ['verify-blob', async () => (await import('./verify-blob.ts')).verifyBlobCommand()],
  ['ca', async () => (await import('./ca.ts')).caCommand()],
  ['identity', async () => (await import('./identity.ts')).identityCommand()],
  ['signer', async () => (await import('./signer.ts')).signerCommand()],
  ['log', async () => (await import('./log.ts')).logCommand()],
  ['witness', async () => (await import('./witness.ts')).witnessCommand()],
  ['repo', async () => (await import('./repo.ts')).repoCommand()],
  ['fetch', async () => (await import('./fetch.ts')).fetchCommand()],
  ['gate', async () => (await import('./gate.ts')).gateCommand()],
  ['init', async () => (await import('./init.ts')).initCommand()],
  ['serve', async () => (await import('./serve.ts')).serveCommand()],
  ['token', async () => (await import('./token.ts')).tokenCommand()],
  ['audit', async () => (await import('./audit.ts')).auditCommand()],
  ['push', async () => (await import('./push.ts')).pushCommand()],
  ['query', async () => (await import('./query.ts')).queryCommand()],
  ['demo', async () => (await import('./demo.ts')).demoCommand()],
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function exitOverrideAll(command: Command): void {
  command.exitOverride();
  command.commands.forEach(exitOverrideAll);
}

/** The first argument that is not an option: the command the user asked for, if any. */
function requestedCommand(argv: readonly string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'));
}

/**
 * Builds the program with the command `argv` names, or with every command when it names none
 * that exists (for --help, --version and "unknown command" errors with suggestions).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('custody')
    .description('custody secures a software supply chain end to end: attest, verify, sign, log, distribute.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .enablePositionalOptions();
  const name = requestedCommand(argv);
  const wanted = commands.filter(([n]) => n === name);
  const versionOnly = name === undefined && (argv.includes('--version') || argv.includes('-V'));
  const toLoad = wanted.length > 0 ? wanted : versionOnly ? [] : commands;
  for (const command of await Promise.all(toLoad.map(([, load]) => load()))) program.addCommand(command);
  exitOverrideAll(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    await (await buildProgram(argv)).parseAsync(argv, { from: 'user' });
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
