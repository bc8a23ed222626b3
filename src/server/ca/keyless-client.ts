// The keyless signing client: an ID token (given, or minted by the server for a pipeline step), an
// ephemeral P-256 key kept only in memory, a certificate for it from the CA, the signature, its
// log entry and an RFC 3161 time-stamp over the signature, put together as a Sigstore bundle v0.3
// (certificate + tlog entry + timestamp). The key is dropped when the function returns.
import { createHash, sign as cryptoSign } from 'node:crypto';
import { decodeJwt } from 'jose';
import { InputError, PolicyError, generateKeyPair } from '../../core/index.ts';
import { digestSignerFor } from '../../keys/index.ts';
import { timestampRequest } from './tsa.ts';
import { certificateIdentity } from './verify-keyless.ts';
import { pemCertificates } from './x509.ts';

export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** What every keyless bundle carries: the certificate, its log entry and its time-stamp. */
export interface KeylessMaterial {
  certificate: { rawBytes: string };
  tlogEntries: unknown[];
  timestampVerificationData: { rfc3161Timestamps: { signedTimestamp: string }[] };
}

export interface KeylessBundle {
  mediaType: string;
  verificationMaterial: KeylessMaterial;
  messageSignature: { messageDigest: { algorithm: 'SHA2_256'; digest: string }; signature: string };
}

export interface KeylessSignResult {
  readonly bundle: KeylessBundle;
  readonly identity: string;
  readonly issuer: string;
  readonly logIndex: number;
}

async function request(server: string, path: string, init: RequestInit): Promise<Response> {
  const base = server.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, init);
  } catch (e) {
    throw new InputError('SERVER_UNAVAILABLE', `cannot reach ${base}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (response.ok) return response;
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`;
  const message = `${init.method ?? 'GET'} ${path}: server answered ${response.status} ${code}${typeof body.message === 'string' ? `: ${body.message}` : ''}`;
  if (response.status === 401 || response.status === 403) throw new PolicyError('ACCESS_DENIED', message);
  if (response.status >= 500) throw new InputError('SERVER_UNAVAILABLE', message);
  throw new InputError('SERVER_REFUSED', message);
}

export async function postJson(server: string, path: string, body: unknown, token?: string): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token !== undefined && token !== '') headers['authorization'] = `Bearer ${token}`;
  return (await request(server, path, { method: 'POST', headers, body: JSON.stringify(body) })).json();
}

export interface MintOptions {
  readonly step: string;
  readonly ttlSeconds: number;
  readonly run?: string;
  readonly namespace?: string;
  readonly audience?: string;
}

/** Asks the server's workload issuer for an ID token (the API token authorizes the principal). */
export async function mintIdentityToken(server: string, apiToken: string | undefined, o: MintOptions): Promise<{ token: string; subject: string; issuer: string; expiresAt: string }> {
  const q = o.namespace === undefined ? '' : `?namespace=${encodeURIComponent(o.namespace)}`;
  const body = { step: o.step, ttlSeconds: o.ttlSeconds, ...(o.run === undefined ? {} : { run: o.run }), ...(o.audience === undefined ? {} : { audience: o.audience }) };
  return (await postJson(server, `/v1/identity/token${q}`, body, apiToken)) as { token: string; subject: string; issuer: string; expiresAt: string };
}

/** A time-stamp over `data`'s SHA-256 from the server's TSA: the DER TimeStampResp. */
export async function fetchTimestamp(server: string, data: Uint8Array): Promise<Buffer> {
  const der = timestampRequest(createHash('sha256').update(data).digest(), { certReq: true });
  const res = await request(server, '/api/v1/timestamp', { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: der });
  return Buffer.from(await res.arrayBuffer());
}

export interface EphemeralCertificate {
  /** The ephemeral key pair: in memory only; callers drop it after signing. */
  readonly key: ReturnType<typeof generateKeyPair>;
  /** DER of the leaf certificate the CA issued for it. */
  readonly leaf: Buffer;
}

/** An ephemeral P-256 key and its certificate from the CA (proof of possession over the token's sub). */
export async function ephemeralCertificate(server: string, identityToken: string): Promise<EphemeralCertificate> {
  let sub: unknown;
  try {
    sub = decodeJwt(identityToken).sub;
  } catch {
    throw new InputError('INPUT_INVALID', 'the identity token is not a JWT');
  }
  if (typeof sub !== 'string') throw new InputError('INPUT_INVALID', 'the identity token has no sub claim');
  // The ephemeral key: generated here, never written anywhere, unreachable after return.
  const key = generateKeyPair('ecdsa-p256');
  const proof = cryptoSign('sha256', Buffer.from(sub, 'utf8'), key.keyObject);
  const cert = (await postJson(server, '/api/v2/signingCert', {
    credentials: { oidcIdentityToken: identityToken },
    publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: key.publicKey.pem }, proofOfPossession: proof.toString('base64') },
  })) as { signedCertificateEmbeddedSct?: { chain?: { certificates?: string[] } } };
  const [leaf] = pemCertificates((cert.signedCertificateEmbeddedSct?.chain?.certificates ?? []).join('\n'));
  if (leaf === undefined) throw new InputError('SERVER_REFUSED', 'the CA answered without a certificate');
  return { key, leaf };
}

/** Signs a SHA-256 digest keylessly; the artifact never leaves the machine. */
export async function keylessSignDigest(server: string, identityToken: string, digest: Uint8Array): Promise<KeylessSignResult> {
  const { key, leaf } = await ephemeralCertificate(server, identityToken);
  const signature = Buffer.from(digestSignerFor('ecdsa-p256', key.keyObject)(digest, 'sha256'));
  const { verificationMaterial, ...signer } = await logAndTimestamp(server, leaf, signature, {
    hashedRekordRequestV002: {
      digest: Buffer.from(digest).toString('base64'),
      signature: { content: signature.toString('base64'), verifier: { x509Certificate: { rawBytes: leaf.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' } },
    },
  });
  return {
    ...signer,
    bundle: {
      mediaType: BUNDLE_V03,
      verificationMaterial,
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(digest).toString('base64') }, signature: signature.toString('base64') },
    },
  };
}

/**
 * Appends a keyless signature to the log (`logRequest`: the Rekor v2 request body), time-stamps
 * the signature (what sigstore verifiers check the time-stamp against) and names the signer.
 */
export async function logAndTimestamp(
  server: string,
  leaf: Buffer,
  signature: Buffer,
  logRequest: Record<string, unknown>,
): Promise<{ verificationMaterial: KeylessMaterial; identity: string; issuer: string; logIndex: number }> {
  const entry = (await postJson(server, '/api/v2/log/entries', logRequest)) as { logIndex: string };
  const tsr = await fetchTimestamp(server, signature);
  const { identity, issuer } = certificateIdentity(leaf);
  return {
    verificationMaterial: {
      certificate: { rawBytes: leaf.toString('base64') },
      tlogEntries: [entry],
      timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: tsr.toString('base64') }] },
    },
    identity,
    issuer,
    logIndex: Number(entry.logIndex),
  };
}
