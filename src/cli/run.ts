// custody run: record a step (materials, command, products) and sign its link.
import { Command } from 'commander';
import { join } from 'node:path';
import { InputError, type PrivateKey } from '../core/index.ts';
import type { Link } from '../formats/index.ts';
import { createStatCache, linkToStatement, progressReporter, runStep } from '../attest/index.ts';
import { keylessAttestation } from './attest-keyless.ts';
import { collect, common, output, writeFileAtomic, type CommonOptions } from './io.ts';
import { addArtifactFlags, loadSigningKey, recordOptionsFrom, writeSignedLink, type ArtifactFlags, type KeyFlags } from './step-options.ts';
import { isBuildRun, runBuildFromFlags, type BuildRunFlags } from './run-provenance.ts';

interface RunOptions extends CommonOptions, ArtifactFlags, Partial<KeyFlags>, BuildRunFlags {
  step: string;
  /** Sign the DSSE link statement keylessly (docs/keyless.md): a Sigstore bundle NAME.keyless.sigstore. */
  keyless?: boolean;
  server?: string;
  identityToken?: string;
  ttl?: string;
  namespace?: string;
  materials?: string[];
  products?: string[];
  out: string;
  dsse?: boolean;
  /** false with -x/--no-command. */
  command: boolean;
  recordStreams: boolean;
  env?: string[];
  recordEnvironment?: boolean;
  timeout?: string;
}

/** The key that signs, or undefined for --keyless (which needs --dsse and no --key). */
function signingKey(options: RunOptions): PrivateKey | undefined {
  if (options.keyless === true) {
    if (options.key !== undefined) throw new InputError('USAGE', '--keyless signs with an ephemeral key: drop --key');
    if (options.dsse !== true) throw new InputError('USAGE', '--keyless writes a DSSE link statement in a Sigstore bundle: add --dsse');
    return undefined;
  }
  if (options.key === undefined) throw new InputError('USAGE', 'give -k/--key FILE, or --keyless --dsse');
  return loadSigningKey({ key: options.key, ...(options.passphraseEnv === undefined ? {} : { passphraseEnv: options.passphraseEnv }) });
}

/** Keyless: the link v0.3 statement signed with an ephemeral key certified for the step's identity. */
async function writeKeylessLink(link: Link, returnValue: number, command: string[], options: RunOptions): Promise<void> {
  const signed = await keylessAttestation(linkToStatement(link), options);
  const path = join(options.out, `${link.name}.keyless.sigstore`);
  writeFileAtomic(path, signed.text);
  const counts = { materials: Object.keys(link.materials).length, products: Object.keys(link.products).length };
  output(
    options,
    { link: path, step: link.name, identity: signed.identity, issuer: signed.issuer, logIndex: signed.logIndex, ...counts, returnValue, format: 'sigstore-dsse' },
    `custody run: wrote ${path} (keyless as ${signed.identity}; ${counts.materials} materials, ${counts.products} products${command.length > 0 ? `, command exited ${returnValue}` : ''})`,
  );
  if (returnValue !== 0) process.exitCode = returnValue;
}

async function run(command: string[], options: RunOptions): Promise<void> {
  if (command.length === 0 && options.command !== false) {
    throw new InputError('USAGE', 'give the command after "--" (custody run --step NAME --key K -- CMD ARGS), or pass --no-command');
  }
  if (command.length > 0 && options.command === false) throw new InputError('USAGE', '--no-command and a command after "--" exclude each other');
  const key = signingKey(options);
  const timeoutMs = options.timeout === undefined ? undefined : Number(options.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new InputError('USAGE', `--timeout must be a positive number of seconds (got '${options.timeout}')`);
  // Build steps (issue 9): sandboxed unless --no-hermetic, SLSA provenance with --provenance.
  if (isBuildRun(options)) return runBuildFromFlags(command, options, key ?? { keyless: options }, timeoutMs);
  const { link, returnValue } = await runStep(
    {
      name: options.step,
      materials: options.materials ?? [],
      products: options.products ?? [],
      command,
      record: recordOptionsFrom(options, options.json === true ? undefined : progressReporter()),
      environmentAllowlist: options.env ?? [],
      recordWorkdir: options.recordEnvironment === true,
      recordStreams: options.recordStreams,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
    createStatCache(),
  );
  if (key === undefined) return writeKeylessLink(link, returnValue, command, options);
  const path = await writeSignedLink(link, key, options.out, options.dsse === true);
  output(
    options,
    { link: path, step: link.name, keyid: key.publicKey.keyid, materials: Object.keys(link.materials).length, products: Object.keys(link.products).length, returnValue, format: options.dsse === true ? 'dsse' : 'v0.9' },
    `custody run: wrote ${path} (${Object.keys(link.materials).length} materials, ${Object.keys(link.products).length} products${command.length > 0 ? `, command exited ${returnValue}` : ''})`,
  );
  // A failing command still gets its link; custody then exits with the command's code.
  if (returnValue !== 0) process.exitCode = returnValue;
}

export function runCommand(): Command {
  return common(
    addArtifactFlags(
      new Command('run')
        .description('run a supply-chain step: record materials, run the command, record products, write a signed in-toto link (NAME.<keyid8>.link)')
        .argument('[command...]', 'the command and its arguments, after "--"')
        .requiredOption('-n, --step <name>', 'step name (as in the layout)')
        .option('-k, --key <file>', 'private key that signs the link (PEM or securesystemslib JSON)')
        .option('--keyless', 'with --dsse: sign with an ephemeral key certified by the server CA for this step\'s workload identity; writes NAME.keyless.sigstore (docs/keyless.md)')
        .option('--server <url>', 'keyless: the custody server (default: $CUSTODY_SERVER)')
        .option('--identity-token <file>', 'keyless: OIDC ID token file (default: $CUSTODY_IDENTITY_TOKEN, else minted for the step with $CUSTODY_TOKEN)')
        .option('--ttl <duration>', 'keyless: lifetime of a minted ID token', '10m')
        .option('--namespace <ns>', 'keyless: namespace to mint the ID token in')
        .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
        .option('-m, --materials <path>', 'file or directory to record before the command; repeat for several', collect)
        .option('-p, --products <path>', 'file or directory to record after the command; repeat for several', collect)
        .option('-d, --out <dir>', 'directory to write the link to', '.')
        .option('--dsse', 'write a DSSE envelope of an in-toto Statement with the link v0.3 predicate instead of a v0.9 link')
        .option('-x, --no-command', 'record a step without running a command (e.g. a sign-off)')
        .option('--no-record-streams', 'pass the command\'s output through without storing it in the link')
        .option('--env <name>', 'record this environment variable in the link; repeat for several (nothing else is recorded)', collect)
        .option('--record-environment', 'record the working directory (environment.workdir), as in-toto-run does')
        .option('--timeout <seconds>', 'kill the command after this many seconds')
        .option('--provenance', 'also write a signed SLSA Provenance v1 statement (NAME.<keyid8>.provenance.json; with --keyless a bundle NAME.keyless.provenance.sigstore); runs hermetically unless --no-hermetic')
        .option('--hermetic', 'run the command in a bubblewrap sandbox: no network, read-only system, only materials (read-only) and product directories (writable) bound in, clean environment')
        .option('--no-hermetic', 'with --provenance: run unsandboxed (the provenance says so)')
        .option('--tool <path>', 'hermetic: toolchain file or directory (absolute) bound read-only and digested into the provenance; repeat for several', collect)
        .option('--pass-env <name[=value]>', 'hermetic: pass this variable into the step (nothing else is passed); repeat for several', collect)
        .option('--builder-id <uri>', 'builder.id written into the provenance'),
    ),
    'custody run --step build --key alice.key -m src -p dist -- npm run build',
    'custody run -n package -k alice.key -m dist -p app.tgz --dsse -- npm pack --pack-destination .',
    'custody run -n package --keyless --dsse --server https://custody.example -m dist -p app.tgz -- npm pack --pack-destination .',
    'custody run -n build --keyless --dsse --provenance --tool /usr/bin/node -m src -p dist -- npm run build   # NAME.keyless.sigstore + NAME.keyless.provenance.sigstore',
  )
    .passThroughOptions()
    .action((command: string[], o: RunOptions) => run(command, o));
}
