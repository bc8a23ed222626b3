// custody verify-blob: checks a Sigstore bundle v0.3 against a file — the signature under the
// given key, the signed digest against the file, the log inclusion proof and checkpoint signature
// (with --trust-root), and revocation (with --revocations).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { InputError, digestFile, parseJson } from '../core/index.ts';
import { loadPublicKeyFile } from '../keys/index.ts';
import { fetchJson, parseRevocationList, parseSigningKeyList, trustedLogsFromRoot, verifyBundle, type RevocationList } from '../server/index.ts';
import { common, output, readFileOrFail, type CommonOptions } from './io.ts';
import { verifyKeylessBlob } from './verify-keyless.ts';

interface VerifyBlobOptions extends CommonOptions {
  bundle: string;
  key: string[];
  keysFrom?: string;
  trustRoot?: string;
  revocations?: string;
  certificateIdentity?: string[];
  certificateOidcIssuer?: string;
}

async function loadRevocations(source: string): Promise<RevocationList> {
  if (/^https?:\/\//.test(source)) {
    const url = new URL(source);
    return parseRevocationList(await fetchJson(url.origin, url.pathname === '/' ? '/v1/revocations' : `${url.pathname}${url.search}`));
  }
  return parseRevocationList(parseJson(readFileOrFail(source, 'revocation list'), source));
}

/** The server's published signing keys (URL: GET /v1/signing/keys) or a saved copy of that list. */
async function loadKeyList(source: string) {
  if (/^https?:\/\//.test(source)) {
    const url = new URL(source);
    return parseSigningKeyList(await fetchJson(url.origin, url.pathname === '/' ? '/v1/signing/keys' : `${url.pathname}${url.search}`));
  }
  return parseSigningKeyList(parseJson(readFileOrFail(source, 'signing key list'), source));
}

async function verifyBlob(file: string, o: VerifyBlobOptions): Promise<void> {
  if (o.certificateIdentity !== undefined || o.certificateOidcIssuer !== undefined) return verifyKeylessBlob(file, o);
  if (o.key.length === 0 && o.keysFrom === undefined) {
    throw new InputError('USAGE', 'pass --key PUB (the signing key; repeat for several) or --keys-from (the server URL or its saved key list); for a keyless bundle --certificate-identity and --certificate-oidc-issuer');
  }
  const keys = [...o.key.map((k) => loadPublicKeyFile(k)), ...(o.keysFrom === undefined ? [] : (await loadKeyList(o.keysFrom)).keys)];
  if (keys.length === 0) throw new InputError('INPUT_INVALID', `${o.keysFrom ?? ''} lists no unrevoked signing key`);
  const bundle = parseJson(readFileOrFail(o.bundle, 'bundle'), o.bundle);
  const sha256 = (await digestFile(file))['sha256']!;
  const logs = o.trustRoot === undefined ? undefined : trustedLogsFromRoot(parseJson(readFileOrFail(o.trustRoot, 'trusted root'), o.trustRoot));
  if (logs?.length === 0) throw new InputError('INPUT_INVALID', `${o.trustRoot ?? ''} names no custody log (tlogs with checkpointKeyId)`);
  const revocations = o.revocations === undefined ? undefined : await loadRevocations(o.revocations);
  const result = verifyBundle({
    bundle,
    artifactSha256: Buffer.from(sha256, 'hex'),
    artifact: readFileSync(file),
    keys,
    ...(logs === undefined ? {} : { logs, logThreshold: 1 }),
    ...(revocations === undefined ? {} : { revocations }),
  });
  output(o, { verified: true, ...result, logChecked: logs !== undefined, revocationsChecked: revocations !== undefined }, [
    `verified: ${file} signed by ${result.keyid.slice(0, 16)}… (${result.content})`,
    logs === undefined ? 'log: not checked (pass --trust-root)' : `log: included at ${result.logIndexes.join(', ')} under a signed checkpoint`,
    revocations === undefined ? 'revocation: not checked (pass --revocations)' : 'revocation: not revoked',
  ]);
}

export function verifyBlobCommand(): Command {
  return common(
    new Command('verify-blob')
      .description('verify a Sigstore bundle v0.3 for a file: signature, digest, log inclusion and checkpoint, revocation')
      .argument('<file>', 'the artifact')
      .requiredOption('--bundle <file>', 'the Sigstore bundle')
      .option('--key <file>', 'trusted public key (PEM or securesystemslib JSON); repeat for several', (v: string, p: string[] = []) => [...p, v], [])
      .option('--keys-from <file|url>', 'trust the signing keys a custody server publishes (its URL: GET /v1/signing/keys, or a saved copy); revoked keys are left out')
      .option('--trust-root <file>', "custody's trusted_root.json (GET /v1/trusted-root): require a verified log entry")
      .option('--revocations <file|url>', 'revocation list (file, or the server URL: GET /v1/revocations)')
      .option('--certificate-identity <id>', 'keyless: accepted signer identity (SAN), exact or /regexp/; repeat for several', (v: string, p: string[] = []) => [...p, v])
      .option('--certificate-oidc-issuer <iss>', 'keyless: accepted OIDC issuer, exact or /regexp/')
      .action((file: string, o: VerifyBlobOptions) => verifyBlob(file, o)),
    'custody verify-blob dist/app.tgz --bundle app.tgz.sigstore.json --key release.pub --trust-root trusted_root.json --revocations https://custody.example',
    'custody verify-blob dist/app.tgz --bundle app.tgz.sigstore.json --trust-root keyless_root.json --certificate-identity /.*\\/steps\\/release/ --certificate-oidc-issuer https://custody.example',
  );
}
