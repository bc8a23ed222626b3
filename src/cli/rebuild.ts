// custody rebuild: re-run a step from its SLSA provenance in a fresh hermetic sandbox, compare
// every subject digest, write a signed SLSA VSA (and the rebuild's own provenance). Exit 1 when
// the rebuild does not reproduce the subjects.
import { join } from 'node:path';
import { Command } from 'commander';
import { InputError, publicKeyFromPem, verifyEnvelope, type PrivateKey, type Statement } from '../core/index.ts';
import { REBUILDER_ID, readProvenanceEnvelope, rebuild, type RebuildResult, type RebuildSource } from '../build/index.ts';
import { collect, common, output, parsePositiveInt, readFileOrFail } from './io.ts';
import { addKeylessOptions, keyUnlessKeyless, writeKeylessStatement } from './keyless-options.ts';
import { custodyVersion, writeSignedStatement } from './run-provenance.ts';

interface RebuildFlags {
  provenance: string;
  source?: string;
  git?: string;
  commit?: string;
  key?: string;
  passphraseEnv?: string;
  /** Sign the VSA (and the rebuild provenance) keylessly: Sigstore bundles (docs/keyless.md). */
  keyless?: boolean;
  server?: string;
  identityToken?: string;
  step: string;
  ttl?: string;
  namespace?: string;
  out: string;
  originals?: string;
  provenanceKey?: string;
  verifierId: string;
  allowTool?: string[];
  resourceUri?: string;
  uid?: number;
  workdir?: string;
  json?: boolean;
}

export const VSA_FILE = 'rebuild.vsa.json';
export const REBUILD_PROVENANCE_FILE = 'rebuild.provenance.json';
/** With --keyless: Sigstore bundles v0.3 holding the DSSE envelopes. */
export const KEYLESS_VSA_FILE = 'rebuild.vsa.sigstore';
export const KEYLESS_REBUILD_PROVENANCE_FILE = 'rebuild.provenance.sigstore';

/** Writes a statement signed with the key (DSSE envelope) or keylessly (Sigstore bundle); the identity when keyless. */
async function writeStatement(statement: Statement<object>, key: PrivateKey | undefined, path: string, flags: RebuildFlags): Promise<string | undefined> {
  if (key !== undefined) {
    await writeSignedStatement(statement, key.signer(), path);
    return undefined;
  }
  return (await writeKeylessStatement(statement, path, flags)).identity;
}

function sourceFrom(flags: RebuildFlags): RebuildSource {
  if (flags.source !== undefined && flags.git !== undefined) throw new InputError('USAGE', 'pass either --source DIR or --git URL, not both');
  if (flags.commit !== undefined && flags.git === undefined) throw new InputError('USAGE', '--commit goes with --git URL');
  if (flags.source !== undefined) return { dir: flags.source };
  if (flags.git !== undefined) return { git: flags.git, ...(flags.commit === undefined ? {} : { commit: flags.commit }) };
  return { recorded: true };
}

export function summaryLines(result: RebuildResult): string[] {
  return result.subjects.map((s) => `  ${s.matches ? 'same' : 'DIFFERS'}  ${s.name}${s.actual === undefined ? ' (not rebuilt)' : ''}${s.report === undefined ? '' : ` — see ${s.report.text}`}`);
}

async function run(flags: RebuildFlags): Promise<void> {
  const key = keyUnlessKeyless(flags);
  if (flags.keyless === true && (flags.server ?? process.env['CUSTODY_SERVER'] ?? '') === '') throw new InputError('USAGE', '--keyless needs --server URL (or $CUSTODY_SERVER)');
  const bytes = readFileOrFail(flags.provenance, 'provenance');
  const provenance = readProvenanceEnvelope(bytes, flags.provenance);
  if (flags.provenanceKey !== undefined) {
    // Only rebuild what the expected builder signed (throws SIGNATURE_INVALID / KEY_UNKNOWN otherwise).
    verifyEnvelope(provenance.envelope, [publicKeyFromPem(readFileOrFail(flags.provenanceKey, 'provenance key').toString('utf8'))]);
  }
  const result = await rebuild({
    provenance,
    provenanceUri: flags.provenance,
    source: sourceFrom(flags),
    outDir: flags.out,
    verifierId: flags.verifierId,
    verifierVersion: { custody: custodyVersion() },
    ...(flags.allowTool === undefined ? {} : { allowedToolPrefixes: flags.allowTool }),
    passThrough: flags.json !== true,
    ...(flags.originals === undefined ? {} : { originalsDir: flags.originals }),
    ...(flags.resourceUri === undefined ? {} : { resourceUri: flags.resourceUri }),
    ...(flags.uid === undefined ? {} : { uid: flags.uid }),
    ...(flags.workdir === undefined ? {} : { workdir: flags.workdir }),
  });
  const vsaPath = join(flags.out, key === undefined ? KEYLESS_VSA_FILE : VSA_FILE);
  const provenancePath = join(flags.out, key === undefined ? KEYLESS_REBUILD_PROVENANCE_FILE : REBUILD_PROVENANCE_FILE);
  const identity = await writeStatement(result.vsa, key, vsaPath, flags);
  if (result.rebuildProvenance !== undefined) await writeStatement(result.rebuildProvenance, key, provenancePath, flags);
  output(
    flags,
    {
      result: result.vsa.predicate.verificationResult,
      vsa: vsaPath,
      provenance: result.rebuildProvenance === undefined ? null : provenancePath,
      returnValue: result.returnValue,
      subjects: result.subjects,
      ...(identity === undefined ? {} : { identity }),
    },
    [
      `custody rebuild: ${result.passed ? 'PASSED: every subject reproduced' : 'FAILED: the rebuild does not reproduce the subjects'}; wrote ${vsaPath}${identity === undefined ? '' : ` (keyless as ${identity})`}`,
      ...summaryLines(result),
    ],
  );
  if (!result.passed) {
    process.stderr.write(`custody: rebuild of '${provenance.external.step}' did not reproduce ${result.subjects.filter((s) => !s.matches).length} of ${result.subjects.length} subjects${result.returnValue === 0 ? '' : ` (the build exited ${result.returnValue})`} [DIGEST_MISMATCH]\n`);
    process.exitCode = 1;
  }
}

export function rebuildCommand(): Command {
  const command = addKeylessOptions(
    new Command('rebuild')
      .description('rebuild a step from its SLSA provenance in a fresh hermetic sandbox on a clean checkout; compare every subject digest; write a signed SLSA VSA (diffoscope reports on a mismatch)')
      .requiredOption('--provenance <file>', 'DSSE envelope of the SLSA provenance to rebuild (custody run --provenance)')
      .option('--source <dir>', 'source: a git work tree (the recorded commit is checked out cleanly) or a plain directory (copied)')
      .option('--git <url>', 'source: clone this repository (default: the URI the provenance records)')
      .option('--commit <id>', 'with --git: the commit (default: the recorded one)')
      .option('-k, --key <file>', 'private key of this rebuilder: signs the VSA (or --keyless)')
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
      .option('--step <name>', 'keyless: the step a minted ID token names', 'rebuild')
      .option('-d, --out <dir>', 'where the VSA, the rebuild provenance, rebuilt products and diffoscope reports go', 'rebuild')
      .option('--originals <dir>', 'directory holding the original artifacts by subject name, for diffoscope (default: --source)')
      .option('--provenance-key <pem>', 'only rebuild a provenance signed by this public key')
      .option('--allow-tool <prefix>', 'only bind recorded tools under this path (overrides the default refusal of /root, /home, /etc, /var, /tmp, …); repeat for several', collect)
      .option('--verifier-id <uri>', 'verifier.id of this rebuilder in the VSA', REBUILDER_ID)
      .option('--resource-uri <uri>', 'resourceUri of the VSA (default: source URI @ commit)')
      .option('--uid <n>', 'uid the step runs as inside the sandbox (a reprotest-style variation)', parsePositiveInt)
      .option('--workdir <path>', 'absolute path the step runs in inside the sandbox (default /build)'),
    '--keyless',
    'the VSA and rebuild provenance (rebuild.vsa.sigstore, rebuild.provenance.sigstore)',
  );
  return common(
    command,
    'custody rebuild --provenance build.1a2b3c4d.provenance.json --source . --key rebuilder.key --out rebuild/',
    'custody rebuild --provenance p.json --git https://example.com/app.git --commit 0123…ab --key rebuilder.key',
    'CUSTODY_TOKEN=… custody rebuild --provenance p.json --source . --keyless --server https://custody.example --step rebuild',
  ).action((flags: RebuildFlags) => run(flags));
}
