// Verifies a keyless Sigstore bundle v0.3 (certificate + log entry + RFC 3161 time-stamp) against
// an artifact and a trusted root, the way sigstore-js does, plus the checks it leaves out:
//   1. the certificate chains to a trusted CA (intermediate and root of trusted_root.json);
//   2. the time-stamp verifies under a trusted TSA and is over the signature; its time is the
//      signing time, which must fall inside the certificate's validity (no integrated time in
//      Rekor v2 logs: the time-stamp is the proof);
//   3. the signature verifies over the artifact under the certificate key, the digest matches;
//   4. each log entry is about this signature and certificate, included under a trusted checkpoint;
//   5. the identity (SAN) and OIDC issuer extension match the policy (exact, or /regexp/).
import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto';
import { RFC3161Timestamp } from '@sigstore/core';
import { InputError, PolicyError, VerificationError, isCustodyError, parseJson } from '../../core/index.ts';
import { leafHash, openCheckpoint, verifyInclusion } from '../../tlog/index.ts';
import { trustedLogsFromRoot, type TrustedLog } from '../sign-verify-bundle.ts';
import { FULCIO_OID, extensionValue } from './x509.ts';

export interface IdentityMatcher {
  /** Exact SAN (email or URI), or a pattern when given as /…/. */
  readonly subject: string;
  readonly issuer: string;
}

export interface KeylessVerifyInput {
  readonly bundle: unknown;
  readonly artifact: Uint8Array;
  readonly trustedRoot: unknown;
  /** Identities accepted (any one); empty: any identity (not recommended). */
  readonly identities: readonly IdentityMatcher[];
  readonly tlogThreshold?: number;
  readonly timestampThreshold?: number;
}

export interface KeylessVerification {
  readonly identity: string;
  readonly issuer: string;
  readonly signedAt: string;
  readonly logIndexes: number[];
  readonly certificate: { readonly notBefore: string; readonly notAfter: string };
}

export interface Chain {
  readonly certs: X509Certificate[];
}

const BUNDLE_MEDIA_TYPES = ['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.2'];
const b64 = (s: unknown): Buffer => Buffer.from(typeof s === 'string' ? s : '', 'base64');

export function chains(list: unknown): Chain[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((ca: { certChain?: { certificates?: { rawBytes?: string }[] } }) => {
    try {
      return [{ certs: (ca.certChain?.certificates ?? []).map((c) => new X509Certificate(b64(c.rawBytes))) }];
    } catch {
      return [];
    }
  });
}

export const within = (c: X509Certificate, at: Date): boolean => at.getTime() >= Date.parse(c.validFrom) && at.getTime() <= Date.parse(c.validTo);

/** RFC 5280 §6.1: each certificate issued (name and signature) by the next, the next a CA, the last self-signed. */
export function chainsTo(leaf: X509Certificate, chain: Chain): boolean {
  let cur = leaf;
  for (const issuer of chain.certs) {
    if (!issuer.ca || !cur.checkIssued(issuer) || !cur.verify(issuer.publicKey)) return false;
    cur = issuer;
  }
  const root = chain.certs.at(-1);
  return root !== undefined && root.checkIssued(root) && root.verify(root.publicKey);
}

/** The SAN of a leaf: its one email or URI. */
export function certificateIdentity(der: Uint8Array): { identity: string; issuer: string } {
  const x = new X509Certificate(der);
  const m = /^(?:email|URI):(.*)$/.exec((x.subjectAltName ?? '').split(', ')[0] ?? '');
  const v2 = extensionValue(der, FULCIO_OID.issuerV2);
  const v1 = extensionValue(der, FULCIO_OID.issuerV1);
  // V2: a DER UTF8String (tag 0x0c, short or long length); V1: the raw string.
  let issuer = '';
  if (v2 !== undefined && v2[0] === 0x0c) issuer = v2.subarray(v2[1]! < 0x80 ? 2 : 2 + (v2[1]! & 0x7f)).toString('utf8');
  else if (v1 !== undefined) issuer = v1.toString('utf8');
  return { identity: m?.[1] ?? '', issuer };
}

/** `/re/` is a regular expression over the whole value, anything else an exact match. */
export function matches(pattern: string, value: string): boolean {
  const re = /^\/(.*)\/$/s.exec(pattern);
  if (re === null) return pattern === value;
  let compiled: RegExp;
  try {
    compiled = new RegExp(`^(?:${re[1]!})$`, 'u');
  } catch {
    throw new InputError('PATTERN_INVALID', `${pattern} is not a valid regular expression`);
  }
  return compiled.test(value);
}

export function checkTimestamp(tsDer: Buffer, signature: Buffer, tsas: Chain[]): Date {
  let ts: RFC3161Timestamp;
  try {
    ts = RFC3161Timestamp.parse(Buffer.from(tsDer));
  } catch (e) {
    throw new VerificationError('TIMESTAMP_INVALID', 'a time-stamp is not a DER TimeStampResp', { cause: e });
  }
  let lastError: unknown;
  for (const tsa of tsas) {
    const [signer, ...rest] = tsa.certs;
    if (signer === undefined) continue;
    try {
      const at = ts.signingTime;
      // The TSA certificate chains to its root and was valid at the time it stamped.
      if (!chainsTo(signer, { certs: rest }) || !within(signer, at)) throw new Error('the TSA certificate is not trusted at the time-stamp');
      ts.verify(Buffer.from(signature), signer.publicKey);
      return at;
    } catch (e) {
      lastError = e;
    }
  }
  throw new VerificationError('TIMESTAMP_INVALID', 'no trusted time-stamp authority signed this time-stamp over the signature', { cause: lastError });
}

interface EntryBody {
  kind?: string;
  spec?: { hashedRekordV002?: { data?: { digest?: string }; signature?: { content?: string; verifier?: { x509Certificate?: { rawBytes?: string } } } } };
}

interface EntryProof {
  logIndex?: string;
  treeSize?: string;
  rootHash?: string;
  hashes?: string[];
  checkpoint?: { envelope?: string };
}

/** The entry body must be about this signature, digest and certificate (hashedrekord v0.0.2). */
function checkEntryBody(entry: Record<string, unknown>, digest: Buffer, signature: Buffer, leafDer: Buffer): void {
  const body = parseJson(b64(entry['canonicalizedBody']).toString('utf8'), 'log entry body') as EntryBody | null;
  const h = typeof body === 'object' && body !== null ? body.spec?.hashedRekordV002 : undefined;
  const about =
    body?.kind === 'hashedrekord' &&
    b64(h?.data?.digest).equals(digest) &&
    b64(h?.signature?.content).equals(signature) &&
    b64(h?.signature?.verifier?.x509Certificate?.rawBytes).equals(leafDer);
  if (!about) throw new VerificationError('PROOF_INVALID', 'a log entry is not about this signature and certificate');
}

function openTrusted(envelope: string, logs: readonly TrustedLog[]): ReturnType<typeof openCheckpoint> {
  for (const log of logs) {
    try {
      return openCheckpoint(envelope, { log: log.verifier, origin: log.origin });
    } catch {
      // try the next trusted log
    }
  }
  throw new VerificationError('PROOF_INVALID', 'a log entry checkpoint is not signed by a trusted log');
}

/** RFC 6962 §2.1.1 inclusion of the entry under a checkpoint signed by a trusted log. */
function checkLogEntry(entry: Record<string, unknown>, digest: Buffer, signature: Buffer, leafDer: Buffer, logs: readonly TrustedLog[]): number {
  checkEntryBody(entry, digest, signature, leafDer);
  return checkInclusion(entry, logs);
}

/** RFC 6962 §2.1.1 inclusion of an entry (whatever its body) under a checkpoint signed by a trusted log. */
export function checkInclusion(entry: Record<string, unknown>, logs: readonly TrustedLog[]): number {
  const p = entry['inclusionProof'] as EntryProof | null | undefined;
  if (typeof p !== 'object' || p === null || !Array.isArray(p.hashes ?? [])) throw new VerificationError('PROOF_INVALID', 'a log entry has no inclusion proof');
  const opened = openTrusted(p.checkpoint?.envelope ?? '', logs);
  const index = Number(p.logIndex);
  const size = Number(p.treeSize);
  const rootHash = b64(p.rootHash);
  if (opened.checkpoint.size !== size || !Buffer.from(opened.checkpoint.rootHash).equals(rootHash)) throw new VerificationError('PROOF_INVALID', 'the inclusion proof is against another tree than its checkpoint');
  try {
    verifyInclusion(index, size, leafHash(b64(entry['canonicalizedBody'])), (p.hashes ?? []).map((x) => new Uint8Array(b64(x))), rootHash);
  } catch (e) {
    throw new VerificationError('PROOF_INVALID', `log entry ${index}: the inclusion proof does not verify`, { cause: e });
  }
  return index;
}

interface KeylessBundleView {
  readonly leafDer: Buffer;
  readonly leaf: X509Certificate;
  readonly signature: Buffer;
  readonly digest: Buffer;
  readonly tlogEntries: Record<string, unknown>[];
  readonly timestamps: Buffer[];
}

interface BundleJson {
  mediaType?: string;
  verificationMaterial?: {
    certificate?: { rawBytes?: string };
    x509CertificateChain?: { certificates?: { rawBytes?: string }[] };
    tlogEntries?: Record<string, unknown>[]; timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp?: string }[] } };
  messageSignature?: { messageDigest?: { algorithm?: string; digest?: string }; signature?: string };
}

/** A list of objects, or BUNDLE_INVALID (absent: empty). */
export function objects(v: unknown, what: string): Record<string, unknown>[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) throw new InputError('BUNDLE_INVALID', `${what} must be a list of objects`);
  return v as Record<string, unknown>[];
}

function parseLeaf(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new InputError('BUNDLE_INVALID', 'the bundle certificate is not DER X.509', { cause: e });
  }
}

function readBundle(json: unknown): KeylessBundleView {
  const bundle = json as BundleJson | null;
  if (bundle === null || typeof bundle !== 'object' || typeof bundle.mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.includes(bundle.mediaType)) throw new InputError('BUNDLE_INVALID', 'not a Sigstore bundle v0.3 (or v0.2)');
  const vm = bundle.verificationMaterial ?? {};
  // v0.3: one `certificate`; v0.2 (sigstore-js's message-signature builder): the leaf first in x509CertificateChain.
  const leafB64 = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
  if (leafB64 === undefined) throw new InputError('BUNDLE_INVALID', 'the bundle has no certificate: not a keyless bundle (use --key)');
  const ms = bundle.messageSignature;
  if (ms?.signature === undefined || ms.messageDigest?.algorithm !== 'SHA2_256') throw new InputError('BUNDLE_INVALID', 'only keyless messageSignature bundles over SHA2_256 are verified here');
  const leafDer = b64(leafB64);
  return {
    leafDer,
    leaf: parseLeaf(leafDer),
    signature: b64(ms.signature),
    digest: b64(ms.messageDigest.digest),
    tlogEntries: objects(vm.tlogEntries, 'tlogEntries'),
    timestamps: objects(vm.timestampVerificationData?.rfc3161Timestamps, 'rfc3161Timestamps').map((t) => b64(t['signedTimestamp'])),
  };
}

function checkSignature(b: KeylessBundleView, artifact: Uint8Array): void {
  if (!createHash('sha256').update(artifact).digest().equals(b.digest)) throw new VerificationError('DIGEST_MISMATCH', 'the bundle signs a different digest than the artifact');
  let ok: boolean;
  try {
    ok = cryptoVerify('sha256', artifact, b.leaf.publicKey, b.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new VerificationError('SIGNATURE_INVALID', 'the signature does not verify under the certificate key');
}

/** The verified signing times; each must fall inside the certificate's validity. */
function signingTimes(b: KeylessBundleView, tsas: Chain[], threshold: number): Date[] {
  const times = b.timestamps.map((t) => checkTimestamp(t, b.signature, tsas));
  if (times.length < threshold) throw new VerificationError('THRESHOLD_NOT_MET', `${times.length} verified time-stamps, ${threshold} required`);
  for (const at of times) {
    if (!within(b.leaf, at)) {
      throw new VerificationError('CERTIFICATE_EXPIRED', `signed at ${at.toISOString()}, outside the certificate's validity ${new Date(b.leaf.validFrom).toISOString()} – ${new Date(b.leaf.validTo).toISOString()}`);
    }
  }
  return times;
}

export function verifyKeylessBundle(input: KeylessVerifyInput): KeylessVerification {
  const b = readBundle(input.bundle);
  const root = input.trustedRoot as { certificateAuthorities?: unknown; timestampAuthorities?: unknown } | null;
  if (root === null || typeof root !== 'object') throw new InputError('INPUT_INVALID', 'the trusted root is not an object');

  // 1. The certificate chains to a trusted CA, and is a code-signing leaf.
  if (!chains(root.certificateAuthorities).some((c) => chainsTo(b.leaf, c))) throw new VerificationError('CERTIFICATE_UNTRUSTED', 'the certificate was not issued by a trusted certificate authority');
  if (b.leaf.ca || !(b.leaf.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.3')) throw new VerificationError('CERTIFICATE_UNTRUSTED', 'the certificate is not a code-signing leaf');
  // 3. The signature over the artifact under the certificate key; the digest is the artifact's.
  checkSignature(b, input.artifact);
  // 2. Signing time from the time-stamps, inside the certificate's validity.
  const times = signingTimes(b, chains(root.timestampAuthorities), input.timestampThreshold ?? 1);
  // 4. Log entries about this signature, under trusted checkpoints.
  let logs: TrustedLog[];
  try {
    logs = trustedLogsFromRoot(input.trustedRoot);
  } catch (e) {
    if (isCustodyError(e)) throw e;
    throw new InputError('INPUT_INVALID', 'the trusted root has malformed tlogs', { cause: e });
  }
  const logIndexes = b.tlogEntries.map((e) => checkLogEntry(e, b.digest, b.signature, b.leafDer, logs));
  const tlogThreshold = input.tlogThreshold ?? 1;
  if (logIndexes.length < tlogThreshold) throw new VerificationError('THRESHOLD_NOT_MET', `${logIndexes.length} verified log entries, ${tlogThreshold} required`);
  // 5. Who signed.
  const { identity, issuer } = certificateIdentity(b.leafDer);
  if (input.identities.length > 0 && !input.identities.some((m) => matches(m.subject, identity) && matches(m.issuer, issuer))) {
    throw new PolicyError('IDENTITY_MISMATCH', `signed by ${identity} (issuer ${issuer}), not an accepted identity`);
  }
  return {
    identity,
    issuer,
    signedAt: times[0]?.toISOString() ?? '',
    logIndexes,
    certificate: { notBefore: new Date(b.leaf.validFrom).toISOString(), notAfter: new Date(b.leaf.validTo).toISOString() },
  };
}
