// custody sign: a Sigstore bundle v0.3 for a file, signed locally with a key file, or by the
// signing service (--server), to which only the file's SHA-256 is sent.
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { IN_TOTO_PAYLOAD_TYPE, InputError, digestFile, makeStatement, signEnvelope } from '../core/index.ts';
import { buildDsseBundle, buildMessageSignatureBundle } from '../formats/index.ts';
import { digestSignerFor, loadPrivateKeyFile } from '../keys/index.ts';
import { SIGNING_PREDICATE_TYPE, remoteSign, type SignMode } from '../server/index.ts';
import { common, output, passphraseFromEnv, writeFileAtomic, type CommonOptions } from './io.ts';
import { signKeyless } from './sign-keyless.ts';

interface SignOptions extends CommonOptions {
  server?: string;
  keyRef?: string;
  key?: string;
  passphraseEnv?: string;
  artifactName?: string;
  mode: SignMode;
  statement?: boolean;
  namespace?: string;
  attestation?: string[];
  out?: string;
  keyless?: boolean;
  identityToken?: string;
  step?: string;
  ttl?: string;
}

async function sign(file: string, o: SignOptions): Promise<void> {
  if (o.keyless === true) return signKeyless(file, o);
  const server = o.server ?? (o.keyRef === undefined ? undefined : process.env['CUSTODY_SERVER']);
  if ((server === undefined) === (o.key === undefined)) throw new InputError('USAGE', 'pass either --key FILE (local) or --server URL with --key-ref NAME');
  const sha256 = (await digestFile(file))['sha256']!;
  const artifactName = o.artifactName ?? basename(file);
  const out = o.out ?? `${file}.sigstore.json`;
  let bundle: unknown;
  let summary: { keyid: string; logIndex: number | null; jobId?: string | null };
  if (server !== undefined) {
    if (o.keyRef === undefined) throw new InputError('USAGE', '--server needs --key-ref NAME');
    const r = await remoteSign(server, process.env['CUSTODY_TOKEN'], {
      digest: `sha256:${sha256}`,
      keyRef: o.keyRef,
      artifactName,
      mode: o.mode,
      content: o.statement === true ? 'statement' : 'digest',
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
      ...(o.attestation === undefined ? {} : { attestationIds: o.attestation }),
    });
    bundle = r.bundle;
    summary = { keyid: r.keyid, logIndex: r.logIndex ?? null, jobId: r.jobId ?? null };
  } else {
    const key = loadPrivateKeyFile(o.key!, passphraseFromEnv(o.passphraseEnv));
    const hint = key.publicKey.keyid;
    // Ed25519 has no pre-hashed form: its bundles carry a DSSE statement about the file.
    if (o.statement === true || key.type === 'ed25519') {
      const statement = makeStatement([{ name: artifactName, digest: { sha256 } }], SIGNING_PREDICATE_TYPE, { artifactName, signedAt: new Date().toISOString() });
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), [key.signer()]);
      bundle = buildDsseBundle({ envelope, hint });
    } else {
      const digest = Buffer.from(sha256, 'hex');
      const signature = digestSignerFor(key.type, key.keyObject)(digest, 'sha256');
      bundle = buildMessageSignatureBundle({ digest, hash: 'sha256', signature, hint });
    }
    summary = { keyid: hint, logIndex: null };
  }
  writeFileAtomic(out, `${JSON.stringify(bundle)}\n`);
  output(o, { bundle: out, artifact: file, sha256, ...summary }, `wrote ${out} (sha256:${sha256.slice(0, 16)}…, key ${summary.keyid.slice(0, 8)}${summary.logIndex === null ? '' : `, log index ${summary.logIndex}`})`);
}

export function signCommand(): Command {
  return common(
    new Command('sign')
      .description('sign a file: a Sigstore bundle v0.3 (locally with --key, or by the signing service with --server, sending only the digest)')
      .argument('<file>', 'the artifact')
      .option('--server <url>', 'signing service URL (default: $CUSTODY_SERVER); token from $CUSTODY_TOKEN')
      .option('--key-ref <name>', 'the server key to sign with')
      .option('--key <file>', 'sign locally with this private key file')
      .option('--passphrase-env <var>', 'environment variable holding the key file passphrase')
      .option('--artifact-name <name>', 'name checked against the server’s allowed patterns (default: the file name)')
      .addOption(new Option('--mode <mode>', 'server signing mode').choices(['verify-then-sign', 'sign-then-verify']).default('verify-then-sign'))
      .option('--statement', 'sign a DSSE in-toto statement about the digest instead of the digest itself')
      .option('--namespace <ns>', 'namespace of the attestations the server checks')
      .option('--attestation <id>', 'attestation id the policy must consider; repeat for several', (v: string, p: string[] = []) => [...p, v])
      .option('--out <file>', 'bundle path (default: FILE.sigstore.json)')
      .option('--keyless', 'sign with an ephemeral key certified by the server CA for your workload identity (docs/keyless.md)')
      .option('--identity-token <file>', 'keyless: OIDC ID token file (default: $CUSTODY_IDENTITY_TOKEN, else minted for --step)')
      .option('--step <name>', 'keyless: mint an ID token for this pipeline step with $CUSTODY_TOKEN')
      .option('--ttl <duration>', 'keyless: lifetime of a minted ID token', '10m')
      .action((file: string, o: SignOptions) => sign(file, o)),
    'custody sign dist/app.tgz --server https://custody.example --key-ref release',
    'custody sign dist/app.tgz --key release.key --out app.tgz.sigstore.json',
    'custody sign dist/app.tgz --keyless --server https://custody.example --step release',
  );
}
