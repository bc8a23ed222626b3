// Custody keys as TUF keys: TUF key ids are the sha256 of the canonical JSON of
// {keytype, scheme, keyval} (TUF spec §4.2 "KEYID"), without securesystemslib's
// keyid_hash_algorithms, so they differ from core's PublicKey.keyid. Signatures are hex.
import { Key, Signature, type Metadata, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { InputError, canonicalJson, digestBytes, type PublicKey, type Signer } from '../core/index.ts';

export type AnyMetadata = Metadata<Root> | Metadata<Timestamp> | Metadata<Snapshot> | Metadata<Targets>;

/** Key types tuf-js verifies (it hashes ECDSA with SHA-256 only, so P-384 is refused here). */
function checkUsable(pub: PublicKey): void {
  if (pub.type === 'ecdsa-p384') throw new InputError('KEY_UNSUPPORTED', 'ECDSA P-384 keys are not verifiable by tuf-js clients; use ed25519 or ecdsa-p256');
}

export function tufKeyId(pub: PublicKey): string {
  const s = pub.toSecuresystemslib();
  return digestBytes(canonicalJson({ keytype: s.keytype, scheme: s.scheme, keyval: { public: s.keyval.public } }));
}

export function tufKey(pub: PublicKey): Key {
  checkUsable(pub);
  const s = pub.toSecuresystemslib();
  return new Key({ keyID: tufKeyId(pub), keyType: s.keytype, scheme: s.scheme, keyVal: { public: s.keyval.public } });
}

type SignedJson = ReturnType<AnyMetadata['signed']['toJSON']>;
const signedCache = new WeakMap<object, SignedJson>();

/**
 * `md.signed.toJSON()`, computed once per object: @tufjs/models rebuilds its maps entry by entry
 * (quadratic in the number of targets), and signing, verifying and writing each need the JSON.
 * Callers never change a signed part in place (a change makes a new Metadata object).
 */
export function signedJson(md: AnyMetadata): SignedJson {
  let json = signedCache.get(md.signed);
  if (json === undefined) {
    json = md.signed.toJSON();
    signedCache.set(md.signed, json);
  }
  return json;
}

/**
 * Records the full signed JSON of metadata whose models object was built without its targets map
 * (see TufRepository.parseStaged): signing, verifying and writing then use the full JSON.
 */
export function primeSignedJson(md: AnyMetadata, json: SignedJson): void {
  signedCache.set(md.signed, json);
}

/** The bytes TUF signs: canonical JSON of `signed` (TUF spec §4.2). */
export function signedBytes(md: AnyMetadata): Uint8Array {
  return canonicalJson(signedJson(md));
}

/** The whole document as models' Metadata.toJSON writes it. */
export function metadataJson(md: AnyMetadata): Record<string, unknown> {
  return { signatures: Object.values(md.signatures).map((s) => s.toJSON()), signed: signedJson(md), ...md.unrecognizedFields };
}

/** Adds (or replaces) each signer's signature on the metadata. */
export async function signMetadata(md: AnyMetadata, signers: readonly Signer[]): Promise<void> {
  const bytes = signedBytes(md);
  for (const signer of signers) {
    checkUsable(signer.publicKey);
    const sig = await signer.sign(bytes);
    const keyID = tufKeyId(signer.publicKey);
    md.signatures[keyID] = new Signature({ keyID, sig: Buffer.from(sig).toString('hex') });
  }
}

/** Distinct key ids among `keyIds` with a valid signature on `md` (TUF spec §5.3.4: threshold of distinct keys). */
export function validSigners(md: AnyMetadata, keys: Record<string, Key>, keyIds: readonly string[]): Set<string> {
  const ok = new Set<string>();
  for (const id of new Set(keyIds)) {
    const key = keys[id];
    if (key === undefined || md.signatures[id] === undefined) continue;
    try {
      // Key.verifySignature reads only `signatures` and `signed.toJSON()`: hand it the cached JSON.
      const json = signedJson(md);
      key.verifySignature({ signatures: md.signatures, signed: { toJSON: () => json } } as unknown as Parameters<Key['verifySignature']>[0]);
      ok.add(id);
    } catch {
      // an invalid signature counts for nothing
    }
  }
  return ok;
}
