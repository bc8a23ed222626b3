// custody verify-blob for keyless bundles: the certificate against the CA in --trust-root, the
// signing time (RFC 3161 time-stamp) inside the certificate's validity, the log entry, and the
// signer's identity against --certificate-identity / --certificate-oidc-issuer (exact, or /regexp/).
import { readFileSync } from 'node:fs';
import { InputError, parseJson } from '../core/index.ts';
import { verifyKeylessBundle } from '../server/index.ts';
import { output, readFileOrFail, type CommonOptions } from './io.ts';

export interface KeylessVerifyOptions extends CommonOptions {
  bundle: string;
  trustRoot?: string;
  certificateIdentity?: string[];
  certificateOidcIssuer?: string;
}

export function verifyKeylessBlob(file: string, o: KeylessVerifyOptions): void {
  if (o.trustRoot === undefined) throw new InputError('USAGE', 'keyless verification needs --trust-root (GET /v1/ca/trusted-root)');
  const ids = o.certificateIdentity ?? [];
  if (ids.length === 0 || o.certificateOidcIssuer === undefined) throw new InputError('USAGE', 'pass --certificate-identity and --certificate-oidc-issuer (exact, or /regexp/)');
  const result = verifyKeylessBundle({
    bundle: parseJson(readFileOrFail(o.bundle, 'bundle'), o.bundle),
    artifact: readFileSync(file),
    trustedRoot: parseJson(readFileOrFail(o.trustRoot, 'trusted root'), o.trustRoot),
    identities: ids.map((subject) => ({ subject, issuer: o.certificateOidcIssuer! })),
  });
  output(o, { verified: true, ...result }, [
    `verified: ${file} signed by ${result.identity} (issuer ${result.issuer})`,
    `signed at ${result.signedAt} (RFC 3161 time-stamp), inside the certificate's validity ${result.certificate.notBefore} – ${result.certificate.notAfter}`,
    `log: included at ${result.logIndexes.join(', ')} under a signed checkpoint`,
  ]);
}
