// custody sign --keyless: the file's SHA-256 signed with an ephemeral key certified by the custody
// CA for the caller's workload identity (ID token from --identity-token FILE, $CUSTODY_IDENTITY_TOKEN,
// or minted by the server for --step with $CUSTODY_TOKEN); the bundle carries the certificate,
// the log entry and an RFC 3161 time-stamp. Only the digest leaves the machine.
import { basename } from 'node:path';
import { InputError, digestFile } from '../core/index.ts';
import { keylessSignDigest, mintIdentityToken } from '../server/index.ts';
import { parseTtl } from './identity.ts';
import { output, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

export interface KeylessSignOptions extends CommonOptions {
  server?: string;
  identityToken?: string;
  step?: string;
  ttl?: string;
  namespace?: string;
  out?: string;
  key?: string;
  keyRef?: string;
  statement?: boolean;
}

/** The ID token: a file, the environment, or minted for a step. */
export async function identityToken(server: string, o: Pick<KeylessSignOptions, 'identityToken' | 'step' | 'ttl' | 'namespace'>): Promise<string> {
  if (o.identityToken !== undefined) return readFileOrFail(o.identityToken, 'identity token').toString('utf8').trim();
  const env = process.env['CUSTODY_IDENTITY_TOKEN'];
  if (env !== undefined && env !== '') return env.trim();
  if (o.step === undefined) throw new InputError('USAGE', 'keyless signing needs --identity-token FILE, $CUSTODY_IDENTITY_TOKEN, or --step NAME (minted with $CUSTODY_TOKEN)');
  const run = process.env['CUSTODY_RUN_ID'];
  const minted = await mintIdentityToken(server, process.env['CUSTODY_TOKEN'], {
    step: o.step,
    ttlSeconds: parseTtl(o.ttl ?? '10m'),
    ...(run === undefined || run === '' ? {} : { run }),
    ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
  });
  return minted.token;
}

export async function signKeyless(file: string, o: KeylessSignOptions): Promise<void> {
  if (o.key !== undefined || o.keyRef !== undefined) throw new InputError('USAGE', '--keyless signs with an ephemeral key: drop --key / --key-ref');
  if (o.statement === true) throw new InputError('USAGE', '--keyless makes messageSignature bundles; --statement (DSSE) is not supported with it yet');
  const server = o.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined) throw new InputError('USAGE', '--keyless needs --server URL (or $CUSTODY_SERVER)');
  const sha256 = (await digestFile(file))['sha256']!;
  const token = await identityToken(server, o);
  const r = await keylessSignDigest(server, token, Buffer.from(sha256, 'hex'));
  const out = o.out ?? `${file}.sigstore.json`;
  writeFileAtomic(out, `${JSON.stringify(r.bundle)}\n`);
  output(
    o,
    { bundle: out, artifact: file, sha256, identity: r.identity, issuer: r.issuer, logIndex: r.logIndex },
    `wrote ${out} (${basename(file)} sha256:${sha256.slice(0, 16)}…, keyless as ${r.identity}, log index ${r.logIndex})`,
  );
}
