// Trust distribution for keyless signing: the Sigstore trusted_root.json naming custody's CA
// (intermediate + root), transparency log and time-stamp authority, and the signing_config.json
// (v0.2) telling clients where the CA, OIDC issuer, log and TSA are. Pure.
import { parseCertificate } from './x509.ts';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

export interface KeylessTrustInput {
  readonly baseUrl: string;
  readonly organization: string;
  readonly root: Buffer;
  readonly intermediate: Buffer;
  readonly tsa: Buffer;
  /** The log's trusted root (log-service trustedRoot()), whose tlogs are copied. */
  readonly logRoot: Record<string, unknown> | undefined;
  readonly oidcIssuer: string | undefined;
}

const raw = (der: Buffer) => ({ rawBytes: der.toString('base64') });
const iso = (d: string): string => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function keylessTrustedRoot(t: KeylessTrustInput): Record<string, unknown> {
  const start = iso(parseCertificate(t.root).validFrom);
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: t.logRoot?.['tlogs'] ?? [],
    certificateAuthorities: [
      {
        subject: { organization: t.organization, commonName: `${t.organization} keyless intermediate` },
        uri: t.baseUrl,
        certChain: { certificates: [raw(t.intermediate), raw(t.root)] },
        validFor: { start },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [
      {
        subject: { organization: t.organization, commonName: `${t.organization} timestamp authority` },
        uri: `${t.baseUrl}/api/v1/timestamp`,
        certChain: { certificates: [raw(t.tsa), raw(t.root)] },
        validFor: { start },
      },
    ],
  };
}

export function keylessSigningConfig(t: KeylessTrustInput): Record<string, unknown> {
  const start = iso(parseCertificate(t.root).validFrom);
  const service = (url: string, majorApiVersion: number) => ({ url, majorApiVersion, validFor: { start }, operator: t.organization });
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(t.baseUrl, 1)],
    oidcUrls: t.oidcIssuer === undefined ? [] : [service(t.oidcIssuer, 1)],
    // Where to POST /api/v2/log/entries (this server), not the log's trusted-root baseUrl (which names the origin).
    rekorTlogUrls: t.logRoot === undefined ? [] : [service(t.baseUrl, 2)],
    tsaUrls: [service(`${t.baseUrl}/api/v1/timestamp`, 1)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
}
