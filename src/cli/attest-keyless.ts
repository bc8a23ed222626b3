// custody attest --keyless: the in-toto Statement signed as a DSSE envelope with an ephemeral key
// certified by the custody CA for the caller's workload identity; the result is a Sigstore bundle
// v0.3 with `dsseEnvelope` content, the certificate, a dsse log entry and an RFC 3161 time-stamp
// (docs/keyless.md). Policies name the identity as a functionary (`keyless: {issuer, subject}`).
import { IN_TOTO_PAYLOAD_TYPE, InputError, type Statement } from '../core/index.ts';
import { keylessSignDsse } from '../server/index.ts';
import { output, writeFileAtomic, type CommonOptions } from './io.ts';
import { identityToken } from './sign-keyless.ts';

export interface KeylessAttestOptions extends CommonOptions {
  server?: string;
  identityToken?: string;
  step?: string;
  ttl?: string;
  namespace?: string;
  out?: string;
}

/** Signs a statement keylessly; returns the bundle text (one JSON line). */
export async function keylessAttestation(statement: Statement<object>, o: KeylessAttestOptions): Promise<{ text: string; identity: string; issuer: string; logIndex: number }> {
  const server = o.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined || server === '') throw new InputError('USAGE', '--keyless needs --server URL (or $CUSTODY_SERVER)');
  const token = await identityToken(server, o);
  const r = await keylessSignDsse(server, token, IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)));
  return { text: `${JSON.stringify(r.bundle)}\n`, identity: r.identity, issuer: r.issuer, logIndex: r.logIndex };
}

/** `custody attest --keyless`: writes the bundle to --out (or stdout). */
export async function attestKeyless(statement: Statement<object>, o: KeylessAttestOptions): Promise<void> {
  const r = await keylessAttestation(statement, o);
  if (o.out === undefined) {
    process.stdout.write(r.text);
    return;
  }
  writeFileAtomic(o.out, r.text);
  output(
    o,
    { out: o.out, subject: statement.subject, predicateType: statement.predicateType, identity: r.identity, issuer: r.issuer, logIndex: r.logIndex },
    `wrote ${o.out}: ${statement.subject.length} subject(s), ${statement.predicateType}, keyless as ${r.identity} (log index ${r.logIndex})`,
  );
}
