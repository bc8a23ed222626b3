// Strict parser for the key-based Sigstore bundle v0.3 subset custody uses. Untrusted input:
// every member is checked, unknown members are refused, every problem is gathered before
// throwing (InputError BUNDLE_INVALID lists them all). Rules from protobuf-specs bundle.proto
// and the v0.3 media type: exactly one of messageSignature / dsseEnvelope; every tlog entry
// carries an inclusion proof with a checkpoint.
import { InputError, parseEnvelope, type Envelope } from '../../core/index.ts';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE, type BundleMessageSignature, type BundleTlogEntry, type SigstoreBundleV03 } from './model.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UINT = /^(0|[1-9][0-9]{0,18})$/;

type Problems = string[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, path: string, keys: readonly string[], problems: Problems): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${path}.${k}: unknown member`);
}

function record(v: unknown, path: string, problems: Problems): Record<string, unknown> {
  if (isRecord(v)) return v;
  problems.push(`${path}: must be an object`);
  return {};
}

function b64(v: unknown, path: string, problems: Problems, allowEmpty = false): string {
  if (typeof v !== 'string' || !BASE64.test(v) || (!allowEmpty && v === '')) {
    problems.push(`${path}: must be ${allowEmpty ? '' : 'non-empty '}standard base64`);
    return '';
  }
  return v;
}

function uint(v: unknown, path: string, problems: Problems): string {
  // protobuf JSON writes int64 as a decimal string; numbers are accepted too (proto3 JSON allows both).
  const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  if (typeof s !== 'string' || !UINT.test(s)) {
    problems.push(`${path}: must be a non-negative integer`);
    return '0';
  }
  return s;
}

function text(v: unknown, path: string, problems: Problems): string {
  if (typeof v !== 'string' || v === '') {
    problems.push(`${path}: must be a non-empty string`);
    return '';
  }
  return v;
}

function parseTlogEntry(v: unknown, path: string, problems: Problems): BundleTlogEntry {
  const e = record(v, path, problems);
  onlyKeys(e, path, ['logIndex', 'logId', 'kindVersion', 'integratedTime', 'canonicalizedBody', 'inclusionProof', 'inclusionPromise'], problems);
  const logId = record(e['logId'], `${path}.logId`, problems);
  onlyKeys(logId, `${path}.logId`, ['keyId'], problems);
  const kv = record(e['kindVersion'], `${path}.kindVersion`, problems);
  onlyKeys(kv, `${path}.kindVersion`, ['kind', 'version'], problems);
  // v0.3: an inclusion proof with a checkpoint is required (a promise alone is not enough).
  const proof = record(e['inclusionProof'], `${path}.inclusionProof`, problems);
  onlyKeys(proof, `${path}.inclusionProof`, ['logIndex', 'rootHash', 'treeSize', 'hashes', 'checkpoint'], problems);
  const checkpoint = record(proof['checkpoint'], `${path}.inclusionProof.checkpoint`, problems);
  onlyKeys(checkpoint, `${path}.inclusionProof.checkpoint`, ['envelope'], problems);
  const hashes = proof['hashes'] ?? [];
  if (!Array.isArray(hashes)) problems.push(`${path}.inclusionProof.hashes: must be a list`);
  const out: BundleTlogEntry = {
    logIndex: uint(e['logIndex'], `${path}.logIndex`, problems),
    logId: { keyId: b64(logId['keyId'], `${path}.logId.keyId`, problems) },
    kindVersion: { kind: text(kv['kind'], `${path}.kindVersion.kind`, problems), version: text(kv['version'], `${path}.kindVersion.version`, problems) },
    integratedTime: uint(e['integratedTime'] ?? '0', `${path}.integratedTime`, problems),
    canonicalizedBody: b64(e['canonicalizedBody'], `${path}.canonicalizedBody`, problems),
    inclusionProof: {
      logIndex: uint(proof['logIndex'], `${path}.inclusionProof.logIndex`, problems),
      rootHash: b64(proof['rootHash'], `${path}.inclusionProof.rootHash`, problems),
      treeSize: uint(proof['treeSize'], `${path}.inclusionProof.treeSize`, problems),
      hashes: Array.isArray(hashes) ? hashes.map((h, i) => b64(h, `${path}.inclusionProof.hashes[${i}]`, problems)) : [],
      checkpoint: { envelope: text(checkpoint['envelope'], `${path}.inclusionProof.checkpoint.envelope`, problems) },
    },
  };
  if (out.inclusionProof.logIndex !== out.logIndex) problems.push(`${path}.inclusionProof.logIndex: differs from logIndex`);
  return out;
}

function parseMessageSignature(v: unknown, problems: Problems): BundleMessageSignature {
  const m = record(v, 'messageSignature', problems);
  onlyKeys(m, 'messageSignature', ['messageDigest', 'signature'], problems);
  const d = record(m['messageDigest'], 'messageSignature.messageDigest', problems);
  onlyKeys(d, 'messageSignature.messageDigest', ['algorithm', 'digest'], problems);
  const algorithm = d['algorithm'];
  if (algorithm !== 'SHA2_256' && algorithm !== 'SHA2_384') problems.push('messageSignature.messageDigest.algorithm: must be SHA2_256 or SHA2_384');
  const digest = b64(d['digest'], 'messageSignature.messageDigest.digest', problems);
  const size = Buffer.from(digest, 'base64').length;
  if (digest !== '' && size !== (algorithm === 'SHA2_384' ? 48 : 32)) problems.push(`messageSignature.messageDigest.digest: wrong length for ${String(algorithm)}`);
  return {
    messageDigest: { algorithm: algorithm === 'SHA2_384' ? 'SHA2_384' : 'SHA2_256', digest },
    signature: b64(m['signature'], 'messageSignature.signature', problems),
  };
}

/** Parses a bundle (already JSON-decoded). Throws InputError BUNDLE_INVALID listing every problem. */
export function parseSigstoreBundleV03(json: unknown): SigstoreBundleV03 {
  const problems: Problems = [];
  const b = record(json, 'bundle', problems);
  onlyKeys(b, 'bundle', ['mediaType', 'verificationMaterial', 'messageSignature', 'dsseEnvelope'], problems);
  if (b['mediaType'] !== SIGSTORE_BUNDLE_V03_MEDIA_TYPE) problems.push(`mediaType: must be ${SIGSTORE_BUNDLE_V03_MEDIA_TYPE}`);
  const vm = record(b['verificationMaterial'], 'verificationMaterial', problems);
  onlyKeys(vm, 'verificationMaterial', ['publicKey', 'tlogEntries', 'timestampVerificationData'], problems);
  const pk = record(vm['publicKey'], 'verificationMaterial.publicKey', problems);
  onlyKeys(pk, 'verificationMaterial.publicKey', ['hint'], problems);
  const hint = text(pk['hint'], 'verificationMaterial.publicKey.hint', problems);
  const entries = vm['tlogEntries'] ?? [];
  if (!Array.isArray(entries)) problems.push('verificationMaterial.tlogEntries: must be a list');
  const tlogEntries = Array.isArray(entries) ? entries.map((e, i) => parseTlogEntry(e, `verificationMaterial.tlogEntries[${i}]`, problems)) : [];
  const tvd = vm['timestampVerificationData'];
  if (tvd !== undefined) {
    const t = record(tvd, 'verificationMaterial.timestampVerificationData', problems);
    onlyKeys(t, 'verificationMaterial.timestampVerificationData', ['rfc3161Timestamps'], problems);
    const ts = t['rfc3161Timestamps'];
    if (ts !== undefined && (!Array.isArray(ts) || ts.length > 0)) problems.push('verificationMaterial.timestampVerificationData.rfc3161Timestamps: RFC 3161 timestamps are not supported');
  }
  const hasMessage = b['messageSignature'] !== undefined;
  const hasDsse = b['dsseEnvelope'] !== undefined;
  if (hasMessage === hasDsse) problems.push('content: exactly one of messageSignature and dsseEnvelope is required');
  const out: SigstoreBundleV03 = {
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint }, tlogEntries, timestampVerificationData: { rfc3161Timestamps: [] } },
  };
  if (hasMessage) out.messageSignature = parseMessageSignature(b['messageSignature'], problems);
  if (hasDsse) {
    let envelope: Envelope | undefined;
    try {
      envelope = parseEnvelope(b['dsseEnvelope']);
    } catch (e) {
      problems.push(`dsseEnvelope: ${e instanceof Error ? e.message : String(e)}`);
    }
    // A bundle carries exactly one signature (protobuf-specs; sigstore-js checks only the first).
    if (envelope !== undefined && envelope.signatures.length !== 1) problems.push('dsseEnvelope.signatures: must hold exactly one signature');
    if (envelope !== undefined) out.dsseEnvelope = envelope;
  }
  if (problems.length > 0) throw new InputError('BUNDLE_INVALID', `invalid Sigstore bundle v0.3: ${problems.join('; ')}`);
  return out;
}
