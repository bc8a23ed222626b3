// A log entry as a Sigstore bundle v0.3 `TransparencyLogEntry` (protobuf-specs JSON: int64 as
// strings, bytes as base64), with an inclusion proof and the signed checkpoint, and the log's
// identity as a Sigstore trusted root names it (tlogs[] with checkpointKeyId). Pure.
import { createHash, createPublicKey } from 'node:crypto';
import { InputError } from '../core/index.ts';
import { decodeBase64Strict } from './base64.ts';
import { SIGNATURE_TYPE_ED25519 } from './note-keys.ts';
import type { KindVersion } from './rekor-body.ts';

export interface SigstoreTlogEntry {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  canonicalizedBody: string;
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
}

/** The log's identity derived from its Ed25519 note verifier key text `<name>+<id>+base64(0x01 ‖ key)`. */
export interface LogIdentity {
  readonly name: string;
  readonly publicKey: Uint8Array;
  /** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key): the note key ID is its first 4 bytes (Rekor v2's checkpointKeyId). */
  readonly checkpointKeyId: Uint8Array;
  /** SHA-256 of the DER SubjectPublicKeyInfo (Rekor's log ID). */
  readonly logId: Uint8Array;
  readonly spkiDer: Uint8Array;
}

export function logIdentity(verifierKey: string): LogIdentity {
  const parts = verifierKey.split('+');
  const name = parts[0] ?? '';
  const raw = decodeBase64Strict(parts.slice(2).join('+'));
  if (raw?.length !== 33 || raw[0] !== SIGNATURE_TYPE_ED25519) throw new InputError('KEY_INVALID', 'the log key must be an Ed25519 note key');
  const publicKey = raw.subarray(1);
  const checkpointKeyId = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, SIGNATURE_TYPE_ED25519)).update(publicKey).digest();
  // SPKI DER for Ed25519 is a fixed 12-byte prefix and the key (RFC 8410).
  const spkiDer = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }); // checks it parses
  return { name, publicKey, checkpointKeyId: new Uint8Array(checkpointKeyId), logId: new Uint8Array(createHash('sha256').update(spkiDer).digest()), spkiDer: new Uint8Array(spkiDer) };
}

export interface TlogEntryInput {
  readonly index: number;
  readonly body: Uint8Array;
  readonly kindVersion: KindVersion;
  readonly proof: readonly Uint8Array[];
  /** The proof's hashes in base64, when the caller has them already (proofs of a batch share most). */
  readonly proofBase64?: readonly string[];
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** The signed checkpoint note of `treeSize`. */
  readonly checkpoint: string;
  readonly identity: LogIdentity;
  /** Seconds since the epoch when integrated; Rekor v2 leaves it 0 (the checkpoint is no timestamp). */
  readonly integratedTime?: number;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');

/** The bundle `tlogEntries[]` item. `logId.keyId` is the checkpoint key ID, as Rekor v2 writes it. */
export function sigstoreTlogEntry(input: TlogEntryInput): SigstoreTlogEntry {
  return {
    logIndex: String(input.index),
    logId: { keyId: b64(input.identity.checkpointKeyId) },
    kindVersion: { kind: input.kindVersion.kind, version: input.kindVersion.version },
    integratedTime: String(input.integratedTime ?? 0),
    canonicalizedBody: b64(input.body),
    inclusionProof: {
      logIndex: String(input.index),
      rootHash: b64(input.rootHash),
      treeSize: String(input.treeSize),
      hashes: input.proofBase64 === undefined ? input.proof.map(b64) : [...input.proofBase64],
      checkpoint: { envelope: input.checkpoint },
    },
  };
}

/**
 * A Sigstore `trusted_root.json` (v0.1) naming this log only. sigstore-js matches a checkpoint
 * signature by the first 4 bytes of `checkpointKeyId` and by its signer name being contained in
 * `baseUrl`, so `baseUrl` must contain the origin.
 */
export function sigstoreTrustedRoot(identity: LogIdentity, options: { baseUrl: string; validFrom?: string }): Record<string, unknown> {
  if (!options.baseUrl.includes(identity.name)) {
    throw new InputError('INPUT_INVALID', `the log's base URL ${options.baseUrl} must contain its origin ${identity.name} (Sigstore clients match them)`);
  }
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: options.baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(identity.spkiDer),
          keyDetails: 'PKIX_ED25519',
          validFor: { start: options.validFrom ?? '1970-01-01T00:00:00Z' },
        },
        logId: { keyId: b64(identity.logId) },
        checkpointKeyId: { keyId: b64(identity.checkpointKeyId) },
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
}
