// The signable wrapper of in-toto v0.9 metadata (models/metadata.py `Metablock`):
// `{"signed": <link|layout>, "signatures": [{"keyid", "sig"}]}`, signatures over the canonical
// JSON (securesystemslib encode_canonical) of the re-serialized `signed` object.
import { verifySignature, type InputErrorCode, type PublicKey, type Signer } from '../../core/index.ts';
import { canonicalJsonFast } from './canonical-fast.ts';
import { fail, getOwn, isHex, isJsonObject, type JsonObject } from './json-value.ts';
import { layoutToJson, parseLayout, type Layout } from './layout.ts';
import { linkSignable, linkToJson, parseLink, type Link } from './link.ts';

/** securesystemslib SIGNATURE_SCHEMA: hex key id, hex signature. */
export interface Signature09 {
  readonly keyid: string;
  readonly sig: string;
}

export interface SignedLink {
  readonly type: 'link';
  readonly signed: Link;
  readonly signatures: readonly Signature09[];
}

export interface SignedLayout {
  readonly type: 'layout';
  readonly signed: Layout;
  readonly signatures: readonly Signature09[];
}

export type SignedMetadata = SignedLink | SignedLayout;

function parseSignatures(value: unknown, code: InputErrorCode): Signature09[] {
  if (!Array.isArray(value)) return fail(code, "'signatures' must be a list");
  return value.map((s, i) => {
    const where = `signatures[${i}]`;
    if (!isJsonObject(s)) return fail(code, `${where} must be an object`);
    const keyid = getOwn(s, 'keyid');
    const sig = getOwn(s, 'sig');
    if (!isHex(keyid)) return fail(code, `${where}.keyid must be a hex key id`);
    if (sig === undefined && Object.hasOwn(s, 'other_headers')) return fail(code, `${where} is a GPG signature: not supported`);
    // binascii.unhexlify would fail on an odd number of digits when the signature is checked.
    if (!isHex(sig) || sig.length % 2 !== 0) return fail(code, `${where}.sig must be an even number of hex digits`);
    return { keyid, sig };
  });
}

function parts(json: unknown, code: InputErrorCode): { signed: unknown; signatures: Signature09[] } {
  if (!isJsonObject(json)) return fail(code, 'in-toto metadata must be a JSON object with signed and signatures');
  // Metablock.load: data.get("signatures", []), data.get("signed", {}).
  const signatures = parseSignatures(Object.hasOwn(json, 'signatures') ? json['signatures'] : [], code);
  return { signed: Object.hasOwn(json, 'signed') ? json['signed'] : {}, signatures };
}

export function parseSignedLink(json: unknown): SignedLink {
  const { signed, signatures } = parts(json, 'LINK_INVALID');
  return { type: 'link', signed: parseLink(signed), signatures };
}

export function parseSignedLayout(json: unknown): SignedLayout {
  const { signed, signatures } = parts(json, 'LAYOUT_INVALID');
  return { type: 'layout', signed: parseLayout(signed), signatures };
}

/** Metablock.load: a link or a layout, told apart by `signed._type`. */
export function parseSignedMetadata(json: unknown): SignedMetadata {
  const signed = isJsonObject(json) ? getOwn(json, 'signed') : undefined;
  const type = isJsonObject(signed) ? getOwn(signed, '_type') : undefined;
  if (type === 'link') return parseSignedLink(json);
  if (type === 'layout') return parseSignedLayout(json);
  return fail('INPUT_INVALID', "in-toto metadata: 'signed._type' must be 'link' or 'layout'");
}

/** The `signed` object exactly as the reference re-serializes it. */
export function signedToJson(metadata: SignedMetadata): JsonObject {
  return metadata.type === 'link' ? linkToJson(metadata.signed) : layoutToJson(metadata.signed);
}

/** The whole metadata document: `{"signatures": [...], "signed": {...}}`. */
export function metadataToJson(metadata: SignedMetadata): JsonObject {
  return {
    signatures: metadata.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
    signed: signedToJson(metadata),
  };
}

/**
 * The bytes signatures are over: canonical JSON of the re-serialized `signed` (Signable.signable_bytes).
 * A link's re-serialization shares the model's artifact maps instead of copying them (the
 * bytes are the same; copying 20,000 hash dicts is not free).
 */
export function signableBytes(metadata: SignedMetadata): Uint8Array {
  return canonicalJsonFast(metadata.type === 'link' ? linkSignable(metadata.signed) : layoutToJson(metadata.signed));
}

/** Metablock.sign: appends a signature by `signer` (hex, over the signable bytes). */
export async function addSignature<M extends SignedMetadata>(metadata: M, signer: Signer): Promise<M> {
  const sig = await signer.sign(signableBytes(metadata));
  return { ...metadata, signatures: [...metadata.signatures, { keyid: signer.keyid, sig: Buffer.from(sig).toString('hex') }] };
}

/** The signature the reference checks for a key id: the first one carrying it. */
export function findSignature(metadata: SignedMetadata, keyid: string): Signature09 | undefined {
  return metadata.signatures.find((s) => s.keyid === keyid);
}

export type SignatureCheck = 'valid' | 'invalid' | 'missing';

/**
 * Metablock.verify_signature: only the first signature whose key id is `keyid` is verified; a
 * later valid one with the same key id does not count.
 */
export function checkSignature(metadata: SignedMetadata, keyid: string, key: PublicKey): SignatureCheck {
  const signature = findSignature(metadata, keyid);
  if (signature === undefined) return 'missing';
  let data: Uint8Array;
  try {
    data = signableBytes(metadata);
  } catch {
    // Not representable as canonical JSON (a float, a lone surrogate): nothing can be verified.
    return 'invalid';
  }
  return verifySignature(key, data, Buffer.from(signature.sig, 'hex')) ? 'valid' : 'invalid';
}
