// Verifies a key-based Sigstore v0.3 bundle made by the signing service against an artifact:
// the signature under the trusted key named by the hint, the signed digest against the artifact
// (sigstore-js skips this without a log entry), the DSSE subject against the artifact, each log
// entry's body against the bundle, its inclusion proof against its checkpoint and the checkpoint
// signature against the trusted log, and the revocation list. Pure: trust comes in as data.
import { createHash, verify as cryptoVerify, constants } from 'node:crypto';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  VerificationError,
  parseJson,
  parseStatement,
  verifyEnvelope,
  type PublicKey,
} from '../core/index.ts';
import { parseSigstoreBundleV03, type BundleTlogEntry, type SigstoreBundleV03 } from '../formats/index.ts';
import { leafHash, noteVerifierFromPublicKey, openCheckpoint, verifyInclusion, type NoteVerifier } from '../tlog/index.ts';
import type { RevocationList } from './sign-revocations.ts';

/** A log trusted for inclusion: its note verifier (from custody's trusted_root.json). */
export interface TrustedLog {
  readonly verifier: NoteVerifier;
  readonly origin: string;
}

export interface VerifyBundleInput {
  readonly bundle: unknown;
  /** The artifact's SHA-256 (and its bytes when a messageSignature must be checked over them). */
  readonly artifactSha256: Uint8Array;
  readonly artifact?: Uint8Array;
  readonly keys: readonly PublicKey[];
  /** Logs whose entries count; when given, at least `logThreshold` entries must verify. */
  readonly logs?: readonly TrustedLog[];
  readonly logThreshold?: number;
  readonly revocations?: RevocationList;
}

export interface BundleVerification {
  readonly keyid: string;
  readonly content: 'messageSignature' | 'dsseEnvelope';
  /** Indexes of verified log entries. */
  readonly logIndexes: number[];
  /** SHA-256 hex of the signature bytes (how revocations name a signature). */
  readonly signatureDigest: string;
}

const fromB64 = (s: string): Buffer => Buffer.from(s, 'base64');
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** Reads a Sigstore trusted_root.json naming custody logs (tlogs[] with checkpointKeyId). */
export function trustedLogsFromRoot(json: unknown): TrustedLog[] {
  const root = json as { tlogs?: { baseUrl?: string; publicKey?: { rawBytes?: string }; checkpointKeyId?: { keyId?: string } }[] } | null;
  if (root === null || typeof root !== 'object' || !Array.isArray(root.tlogs)) throw new InputError('INPUT_INVALID', 'trusted root: no tlogs list');
  return root.tlogs.flatMap((t) => {
    const spki = fromB64(t.publicKey?.rawBytes ?? '');
    const keyId = fromB64(t.checkpointKeyId?.keyId ?? '');
    // Ed25519 SPKI DER: 12-byte prefix and the key (RFC 8410).
    if (spki.length !== 44 || keyId.length !== 32 || typeof t.baseUrl !== 'string') return [];
    const pub = spki.subarray(12);
    // The origin is the name whose checkpoint key id is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key): the
    // trusted root names the URL, the log signs as a name contained in it (as sigstore-js matches).
    const url = new URL(t.baseUrl);
    const candidates = [`${url.host}${url.pathname}`.replace(/\/$/, ''), url.host];
    for (const name of candidates) {
      const id = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, 0x01)).update(pub).digest();
      if (id.equals(keyId)) return [{ verifier: noteVerifierFromPublicKey(name, pub), origin: name }];
    }
    return [];
  });
}

function fail(code: 'SIGNATURE_INVALID' | 'DIGEST_MISMATCH' | 'SUBJECT_MISMATCH' | 'KEY_UNKNOWN' | 'PROOF_INVALID' | 'THRESHOLD_NOT_MET' | 'SIGNATURE_REVOKED', message: string): never {
  throw new VerificationError(code, message);
}

function verifyMessageSignature(key: PublicKey, bundle: SigstoreBundleV03, input: VerifyBundleInput): Buffer {
  const ms = bundle.messageSignature!;
  const digest = fromB64(ms.messageDigest.digest);
  const sig = fromB64(ms.signature);
  if (ms.messageDigest.algorithm !== 'SHA2_256') fail('DIGEST_MISMATCH', 'only SHA2_256 message digests are checked here');
  if (!digest.equals(Buffer.from(input.artifactSha256))) fail('DIGEST_MISMATCH', 'the bundle signs a different digest than the artifact');
  if (input.artifact === undefined) throw new InputError('INPUT_INVALID', 'the artifact bytes are needed to check a messageSignature');
  // Sigstore semantics: the signature is over the artifact, hashed with SHA-256 for every curve.
  const opts = key.type === 'rsa' ? { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : key.keyObject;
  let ok: boolean;
  try {
    ok = cryptoVerify(key.type === 'ed25519' ? null : 'sha256', input.artifact, opts, sig);
  } catch {
    ok = false;
  }
  if (!ok) fail('SIGNATURE_INVALID', 'the message signature does not verify under the trusted key');
  return sig;
}

function verifyDsse(key: PublicKey, bundle: SigstoreBundleV03, input: VerifyBundleInput): Buffer {
  const envelope = bundle.dsseEnvelope!;
  try {
    verifyEnvelope(envelope, [key], { threshold: 1, payloadType: IN_TOTO_PAYLOAD_TYPE });
  } catch (e) {
    throw new VerificationError('SIGNATURE_INVALID', 'the DSSE envelope does not verify under the trusted key', { cause: e });
  }
  const statement = parseStatement(parseJson(fromB64(envelope.payload).toString('utf8'), 'DSSE payload'));
  const want = Buffer.from(input.artifactSha256).toString('hex');
  if (!statement.subject.some((s) => s.digest?.['sha256'] === want)) fail('SUBJECT_MISMATCH', 'no subject of the statement has the artifact digest');
  return fromB64(envelope.signatures[0]!.sig);
}

/** The entry body must be about this very signature (Rekor v2 hashedrekord/dsse 0.0.2 shapes). */
function checkBody(entry: BundleTlogEntry, bundle: SigstoreBundleV03, sig: Buffer): void {
  const body = parseJson(fromB64(entry.canonicalizedBody).toString('utf8'), 'log entry body') as {
    kind?: unknown;
    spec?: { hashedRekordV002?: { data?: { digest?: string }; signature?: { content?: string } }; dsseV002?: { payloadHash?: { digest?: string }; signatures?: { content?: string }[] } };
  };
  let matches = false;
  if (bundle.messageSignature !== undefined && body.kind === 'hashedrekord') {
    const h = body.spec?.hashedRekordV002;
    matches = h?.data?.digest === bundle.messageSignature.messageDigest.digest && fromB64(h.signature?.content ?? '').equals(sig);
  } else if (bundle.dsseEnvelope !== undefined && body.kind === 'dsse') {
    const d = body.spec?.dsseV002;
    const payloadHash = sha256(fromB64(bundle.dsseEnvelope.payload)).toString('base64');
    matches = d?.payloadHash?.digest === payloadHash && d.signatures?.length === 1 && fromB64(d.signatures[0]?.content ?? '').equals(sig);
  }
  if (!matches) fail('PROOF_INVALID', `log entry ${entry.logIndex} is not about this signature`);
}

function checkInclusion(entry: BundleTlogEntry, logs: readonly TrustedLog[]): number {
  const p = entry.inclusionProof;
  const index = Number(p.logIndex);
  const size = Number(p.treeSize);
  const rootHash = fromB64(p.rootHash);
  let opened;
  let lastError: unknown;
  for (const log of logs) {
    try {
      opened = openCheckpoint(p.checkpoint.envelope, { log: log.verifier, origin: log.origin });
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (opened === undefined) throw new VerificationError('PROOF_INVALID', `log entry ${p.logIndex}: the checkpoint is not signed by a trusted log`, { cause: lastError });
  if (opened.checkpoint.size !== size || !Buffer.from(opened.checkpoint.rootHash).equals(rootHash)) {
    fail('PROOF_INVALID', `log entry ${p.logIndex}: the inclusion proof is against a different tree than its checkpoint`);
  }
  try {
    verifyInclusion(index, size, leafHash(fromB64(entry.canonicalizedBody)), p.hashes.map(fromB64), rootHash);
  } catch (e) {
    throw new VerificationError('PROOF_INVALID', `log entry ${p.logIndex}: the inclusion proof does not verify`, { cause: e });
  }
  return index;
}

export function verifyBundle(input: VerifyBundleInput): BundleVerification {
  const bundle = parseSigstoreBundleV03(input.bundle);
  const hint = bundle.verificationMaterial.publicKey.hint;
  const key = input.keys.find((k) => k.keyid === hint);
  if (key === undefined) fail('KEY_UNKNOWN', `the bundle's key ${hint.slice(0, 16)}… is not a trusted key`);
  const sig = bundle.messageSignature !== undefined ? verifyMessageSignature(key, bundle, input) : verifyDsse(key, bundle, input);
  const signatureDigest = sha256(sig).toString('hex');
  const logIndexes: number[] = [];
  if (input.logs !== undefined) {
    for (const entry of bundle.verificationMaterial.tlogEntries) {
      checkBody(entry, bundle, sig);
      logIndexes.push(checkInclusion(entry, input.logs));
    }
    const threshold = input.logThreshold ?? 1;
    if (logIndexes.length < threshold) fail('THRESHOLD_NOT_MET', `${logIndexes.length} verified log entries, ${threshold} required`);
  }
  const rev = input.revocations;
  if (rev !== undefined) {
    const s = rev.signatures.find((r) => r.signatureDigest === signatureDigest);
    if (s !== undefined) fail('SIGNATURE_REVOKED', `this signature was revoked at ${s.revokedAt}: ${s.reason}`);
    const k = rev.keys.find((r) => r.keyid === key.keyid);
    if (k !== undefined) fail('SIGNATURE_REVOKED', `the signing key ${k.name} was revoked at ${k.revokedAt}`);
  }
  return { keyid: key.keyid, content: bundle.messageSignature !== undefined ? 'messageSignature' : 'dsseEnvelope', logIndexes, signatureDigest };
}
