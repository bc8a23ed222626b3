// DSSE v1 envelopes: PAE, signing, strict parsing and threshold verification over distinct keys.
// https://github.com/secure-systems-lab/dsse/blob/master/protocol.md and envelope.md.
//
// ECDSA signatures are ASN.1 DER (as sigstore, cosign and in-toto-golang write them). The spec's
// own test vector uses IEEE P1363 r‖s; verifying that form needs `ecdsaEncoding: 'ieee-p1363'`
// explicitly, so a verifier never silently accepts two encodings.
import { InputError, VerificationError } from './errors.ts';
import { verifySignature, type EcdsaEncoding, type PublicKey, type Signer } from './keys.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The most signatures an envelope may carry. */
export const MAX_SIGNATURES = 64;

export interface Signature {
  keyid: string;
  sig: string;
}

export interface Envelope {
  payload: string;
  payloadType: string;
  signatures: Signature[];
}

const encoder = new TextEncoder();

/** Pre-Authentication Encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (byte lengths). */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encoder.encode(payloadType);
  const head = encoder.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

const BASE64_STD = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes standard or URL-safe base64 strictly (DSSE accepts both on input). */
export function decodeBase64(text: string, what: string): Uint8Array {
  // Alphabet first: once it holds, at most two '=' remain, all at the end, so stripping them is
  // linear (/=+$/ on a long run of '=' followed by anything else is quadratic).
  const alphabetOk = BASE64_STD.test(text) || BASE64_URL.test(text);
  const body = alphabetOk ? text.replace(/=+$/, '') : text;
  const padded = body.length !== text.length;
  const wellFormed = alphabetOk && body.length % 4 !== 1 && (!padded || text.length % 4 === 0);
  if (!wellFormed) throw new InputError('ENVELOPE_INVALID', `${what} is not valid base64`);
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export async function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signers: readonly Signer[],
): Promise<Envelope> {
  const message = pae(payloadType, payload);
  const signatures: Signature[] = [];
  for (const signer of signers) {
    signatures.push({ keyid: signer.keyid, sig: encodeBase64(await signer.sign(message)) });
  }
  return { payload: encodeBase64(payload), payloadType, signatures };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses an envelope from untrusted JSON: every field typed and decodable, at least one signature. */
export function parseEnvelope(json: unknown): Envelope {
  if (!isRecord(json)) throw new InputError('ENVELOPE_INVALID', 'a DSSE envelope must be a JSON object');
  const { payload, payloadType, signatures } = json;
  if (typeof payload !== 'string') throw new InputError('ENVELOPE_INVALID', "DSSE envelope: 'payload' must be a base64 string");
  if (typeof payloadType !== 'string' || payloadType === '') {
    throw new InputError('ENVELOPE_INVALID', "DSSE envelope: 'payloadType' must be a non-empty string");
  }
  decodeBase64(payload, 'DSSE payload');
  if (Array.isArray(signatures) && signatures.length > MAX_SIGNATURES) {
    // Each signature is tried against every trusted key: bound the work a hostile envelope can cause.
    throw new InputError('ENVELOPE_INVALID', `DSSE envelope: ${signatures.length} signatures, at most ${MAX_SIGNATURES} are accepted`);
  }
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw new InputError('ENVELOPE_INVALID', "DSSE envelope: 'signatures' must be a non-empty list");
  }
  const parsed: Signature[] = signatures.map((s: unknown, i) => {
    if (!isRecord(s)) throw new InputError('ENVELOPE_INVALID', `DSSE signature ${i} must be an object`);
    const { sig, keyid } = s;
    if (typeof sig !== 'string' || sig === '') throw new InputError('ENVELOPE_INVALID', `DSSE signature ${i}: 'sig' must be a non-empty base64 string`);
    decodeBase64(sig, `DSSE signature ${i}`);
    if (keyid !== undefined && keyid !== null && typeof keyid !== 'string') {
      throw new InputError('ENVELOPE_INVALID', `DSSE signature ${i}: 'keyid' must be a string`);
    }
    return { keyid: typeof keyid === 'string' ? keyid : '', sig };
  });
  return { payload, payloadType, signatures: parsed };
}

export interface EnvelopeVerification {
  payloadType: string;
  payload: Uint8Array;
  /** Distinct key ids of the trusted keys whose signatures verified. */
  keyids: string[];
}

export interface VerifyEnvelopeOptions {
  threshold?: number;
  /** Reject unless the payload type is this one. */
  payloadType?: string;
  ecdsaEncoding?: EcdsaEncoding;
}

/**
 * Verifies an envelope against trusted keys. A signature counts once, for the trusted key it
 * verifies under; the threshold counts distinct key ids, so one key signing twice counts once.
 * The keyid of a signature is an unauthenticated hint and is not relied on.
 */
export function verifyEnvelope(
  envelope: Envelope,
  keys: readonly PublicKey[],
  options: VerifyEnvelopeOptions = {},
): EnvelopeVerification {
  const threshold = options.threshold ?? 1;
  if (!Number.isInteger(threshold) || threshold < 1) throw new InputError('USAGE', 'threshold must be a positive integer');
  if (options.payloadType !== undefined && envelope.payloadType !== options.payloadType) {
    throw new VerificationError(
      'PAYLOAD_TYPE_MISMATCH',
      `DSSE payloadType is '${envelope.payloadType}', expected '${options.payloadType}'`,
    );
  }
  const payload = decodeBase64(envelope.payload, 'DSSE payload');
  const message = pae(envelope.payloadType, payload);
  const verified = new Set<string>();
  const encoding = options.ecdsaEncoding === undefined ? {} : { ecdsaEncoding: options.ecdsaEncoding };
  for (const signature of envelope.signatures) {
    const sig = decodeBase64(signature.sig, 'DSSE signature');
    for (const key of keys) {
      if (!verified.has(key.keyid) && verifySignature(key, message, sig, encoding)) {
        verified.add(key.keyid);
        break;
      }
    }
  }
  if (verified.size >= threshold) return { payloadType: envelope.payloadType, payload, keyids: [...verified].sort() };
  if (verified.size > 0) {
    throw new VerificationError(
      'THRESHOLD_NOT_MET',
      `DSSE envelope: ${verified.size} distinct trusted key(s) signed, ${threshold} required`,
    );
  }
  const trusted = new Set(keys.map((k) => k.keyid));
  const hinted = envelope.signatures.map((s) => s.keyid).filter((k) => k !== '');
  if (hinted.length === envelope.signatures.length && hinted.every((k) => !trusted.has(k))) {
    throw new VerificationError(
      'KEY_UNKNOWN',
      `DSSE envelope: signed by unknown key(s) ${[...new Set(hinted)].join(', ')}, none of the ${keys.length} trusted key(s)`,
    );
  }
  throw new VerificationError('SIGNATURE_INVALID', 'DSSE envelope: no signature verifies under a trusted key (tampered payload or wrong key)');
}
