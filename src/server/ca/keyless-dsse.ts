// Keyless DSSE: attestations signed with an ephemeral key certified by the custody CA, as Sigstore
// bundles v0.3 with `dsseEnvelope` content (what `custody attest --keyless` writes), and their
// verification against a trusted root — the same checks as verify-keyless.ts for message
// signatures, over the envelope's PAE (DSSE protocol) instead of a file digest:
//   1. the leaf chains to a trusted CA (RFC 5280 §6.1) and is a code-signing leaf;
//   2. the one DSSE signature verifies over PAE(payloadType, payload) under the leaf key;
//   3. RFC 3161 time-stamps over that signature by a trusted TSA; each stamped time inside the
//      certificate's validity (Rekor v2 has no integrated time: the time-stamp is the proof);
//   4. dsse v0.0.2 log entries about this payload, signature and certificate, included under a
//      checkpoint of a trusted log.
import { X509Certificate, createHash, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { InputError, VerificationError, decodeBase64, encodeBase64, isCustodyError, pae, parseEnvelope, parseJson, type Envelope } from '../../core/index.ts';
import { trustedLogsFromRoot, type TrustedLog } from '../sign-verify-bundle.ts';
import { BUNDLE_V03, ephemeralCertificate, logAndTimestamp, type KeylessMaterial } from './keyless-client.ts';
import { certificateIdentity, chains, chainsTo, checkInclusion, checkTimestamp, objects, within } from './verify-keyless.ts';

export interface KeylessDsseBundle {
  mediaType: string;
  verificationMaterial: KeylessMaterial;
  dsseEnvelope: Envelope;
}

export interface KeylessDsseResult {
  readonly bundle: KeylessDsseBundle;
  readonly identity: string;
  readonly issuer: string;
  readonly logIndex: number;
}

/** Signs a DSSE payload keylessly: ephemeral key, certificate, dsse log entry, time-stamp → bundle v0.3. */
export async function keylessSignDsse(server: string, identityToken: string, payloadType: string, payload: Uint8Array): Promise<KeylessDsseResult> {
  const { key, leaf } = await ephemeralCertificate(server, identityToken);
  const signature = cryptoSign('sha256', pae(payloadType, payload), key.keyObject);
  // Sigstore DSSE bundles carry no key id: the certificate names the signer.
  const envelope: Envelope = { payload: encodeBase64(payload), payloadType, signatures: [{ keyid: '', sig: signature.toString('base64') }] };
  const { verificationMaterial, ...signer } = await logAndTimestamp(server, leaf, signature, {
    dsseRequestV002: { envelope, verifiers: [{ x509Certificate: { rawBytes: leaf.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }] },
  });
  return {
    ...signer,
    bundle: {
      mediaType: BUNDLE_V03,
      verificationMaterial,
      dsseEnvelope: envelope,
    },
  };
}

export interface KeylessDsseVerifyInput {
  readonly bundle: unknown;
  readonly trustedRoot: unknown;
  /** When given, the bundle's envelope must be exactly this one (what the caller evaluates). */
  readonly envelope?: Envelope;
  readonly tlogThreshold?: number;
  readonly timestampThreshold?: number;
}

export interface KeylessDsseVerification {
  readonly identity: string;
  readonly issuer: string;
  readonly signedAt: string;
  readonly logIndexes: number[];
  readonly certificate: { readonly notBefore: string; readonly notAfter: string };
  readonly envelope: Envelope;
}

interface DsseBundleView {
  readonly leafDer: Buffer;
  readonly leaf: X509Certificate;
  readonly envelope: Envelope;
  readonly payload: Buffer;
  readonly signature: Buffer;
  readonly tlogEntries: Record<string, unknown>[];
  readonly timestamps: Buffer[];
}

const MEDIA_TYPES = [BUNDLE_V03, 'application/vnd.dev.sigstore.bundle+json;version=0.2'];
const b64 = (s: unknown): Buffer => Buffer.from(typeof s === 'string' ? s : '', 'base64');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The leaf certificate of a bundle (v0.3 `certificate`, or the first of a v0.2 chain), if any. */
export function bundleLeaf(bundle: unknown): Buffer | undefined {
  if (!isRecord(bundle) || !isRecord(bundle['verificationMaterial'])) return undefined;
  const vm = bundle['verificationMaterial'];
  const cert = isRecord(vm['certificate']) ? vm['certificate']['rawBytes'] : undefined;
  const chain = isRecord(vm['x509CertificateChain']) && Array.isArray(vm['x509CertificateChain']['certificates']) ? (vm['x509CertificateChain']['certificates'] as unknown[])[0] : undefined;
  const raw = cert ?? (isRecord(chain) ? chain['rawBytes'] : undefined);
  return typeof raw === 'string' && raw !== '' ? b64(raw) : undefined;
}

function readDsseBundle(json: unknown): DsseBundleView {
  if (!isRecord(json) || typeof json['mediaType'] !== 'string' || !MEDIA_TYPES.includes(json['mediaType'])) throw new InputError('BUNDLE_INVALID', 'not a Sigstore bundle v0.3 (or v0.2)');
  const leafDer = bundleLeaf(json);
  if (leafDer === undefined) throw new InputError('BUNDLE_INVALID', 'the bundle has no certificate: not a keyless bundle');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafDer);
  } catch (e) {
    throw new InputError('BUNDLE_INVALID', 'the bundle certificate is not DER X.509', { cause: e });
  }
  const envelope = parseEnvelope(json['dsseEnvelope']);
  // Sigstore bundles sign with one key: exactly one signature (as sigstore-js requires).
  if (envelope.signatures.length !== 1) throw new InputError('BUNDLE_INVALID', `a keyless DSSE bundle has exactly one signature, not ${envelope.signatures.length}`);
  const vm = json['verificationMaterial'] as Record<string, unknown>;
  const tsd = isRecord(vm['timestampVerificationData']) ? vm['timestampVerificationData'] : {};
  return {
    leafDer,
    leaf,
    envelope,
    payload: Buffer.from(decodeBase64(envelope.payload, 'DSSE payload')),
    signature: Buffer.from(decodeBase64(envelope.signatures[0]!.sig, 'DSSE signature')),
    tlogEntries: objects(vm['tlogEntries'], 'tlogEntries'),
    timestamps: objects(tsd['rfc3161Timestamps'], 'rfc3161Timestamps').map((t) => b64(t['signedTimestamp'])),
  };
}

/** A dsse v0.0.2 entry body must be about this payload, signature and certificate. */
function checkDsseEntryBody(entry: Record<string, unknown>, b: DsseBundleView): void {
  let body: unknown;
  try {
    body = parseJson(b64(entry['canonicalizedBody']).toString('utf8'), 'log entry body');
  } catch (e) {
    throw new VerificationError('PROOF_INVALID', 'a log entry body is not JSON', { cause: e });
  }
  const spec = isRecord(body) && isRecord(body['spec']) && isRecord(body['spec']['dsseV002']) ? body['spec']['dsseV002'] : undefined;
  const sigs = spec !== undefined && Array.isArray(spec['signatures']) ? (spec['signatures'] as unknown[]) : [];
  const sig = sigs.length === 1 && isRecord(sigs[0]) ? sigs[0] : undefined;
  const verifier = sig !== undefined && isRecord(sig['verifier']) && isRecord(sig['verifier']['x509Certificate']) ? sig['verifier']['x509Certificate']['rawBytes'] : undefined;
  const hash = spec !== undefined && isRecord(spec['payloadHash']) ? spec['payloadHash']['digest'] : undefined;
  const about =
    isRecord(body) &&
    body['kind'] === 'dsse' &&
    b64(hash).equals(createHash('sha256').update(b.payload).digest()) &&
    sig !== undefined &&
    b64(sig['content']).equals(b.signature) &&
    b64(verifier).equals(b.leafDer);
  if (!about) throw new VerificationError('PROOF_INVALID', 'a log entry is not about this DSSE envelope and certificate');
}

const sameEnvelope = (a: Envelope, b: Envelope): boolean =>
  a.payload === b.payload && a.payloadType === b.payloadType && a.signatures.length === b.signatures.length && a.signatures.every((s, i) => s.sig === b.signatures[i]!.sig);

export function verifyKeylessDsse(input: KeylessDsseVerifyInput): KeylessDsseVerification {
  const b = readDsseBundle(input.bundle);
  if (input.envelope !== undefined && !sameEnvelope(input.envelope, b.envelope)) throw new VerificationError('SIGNATURE_INVALID', 'the envelope is not the one in the bundle');
  const root = input.trustedRoot;
  if (!isRecord(root)) throw new InputError('INPUT_INVALID', 'the trusted root is not an object');
  // 1. The certificate chains to a trusted CA and is a code-signing leaf.
  if (!chains(root['certificateAuthorities']).some((c) => chainsTo(b.leaf, c))) throw new VerificationError('CERTIFICATE_UNTRUSTED', 'the certificate was not issued by a trusted certificate authority');
  if (b.leaf.ca || !(b.leaf.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.3')) throw new VerificationError('CERTIFICATE_UNTRUSTED', 'the certificate is not a code-signing leaf');
  // 2. DSSE protocol: the signature is over PAE(payloadType, payload).
  let ok: boolean;
  try {
    ok = cryptoVerify('sha256', pae(b.envelope.payloadType, b.payload), b.leaf.publicKey, b.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new VerificationError('SIGNATURE_INVALID', 'the DSSE signature does not verify under the certificate key');
  // 3. Signing time from the time-stamps, inside the certificate's validity.
  const times = b.timestamps.map((t) => checkTimestamp(t, b.signature, chains(root['timestampAuthorities'])));
  const tsThreshold = input.timestampThreshold ?? 1;
  if (times.length < tsThreshold) throw new VerificationError('THRESHOLD_NOT_MET', `${times.length} verified time-stamps, ${tsThreshold} required`);
  for (const at of times) {
    if (!within(b.leaf, at)) {
      throw new VerificationError('CERTIFICATE_EXPIRED', `signed at ${at.toISOString()}, outside the certificate's validity ${new Date(b.leaf.validFrom).toISOString()} – ${new Date(b.leaf.validTo).toISOString()}`);
    }
  }
  // 4. Log entries about this envelope, under trusted checkpoints.
  let logs: TrustedLog[];
  try {
    logs = trustedLogsFromRoot(root);
  } catch (e) {
    if (isCustodyError(e)) throw e;
    throw new InputError('INPUT_INVALID', 'the trusted root has malformed tlogs', { cause: e });
  }
  const logIndexes = b.tlogEntries.map((e) => {
    checkDsseEntryBody(e, b);
    return checkInclusion(e, logs);
  });
  const tlogThreshold = input.tlogThreshold ?? 1;
  if (logIndexes.length < tlogThreshold) throw new VerificationError('THRESHOLD_NOT_MET', `${logIndexes.length} verified log entries, ${tlogThreshold} required`);
  const { identity, issuer } = certificateIdentity(b.leafDer);
  return {
    identity,
    issuer,
    signedAt: times[0]?.toISOString() ?? '',
    logIndexes,
    certificate: { notBefore: new Date(b.leaf.validFrom).toISOString(), notAfter: new Date(b.leaf.validTo).toISOString() },
    envelope: b.envelope,
  };
}
