// Builders for in-toto v0.9 test material: functionary keys, layouts, links, signatures.
import { generateKeyPair, type KeyType, type PrivateKey } from '../../src/core/index.ts';
import {
  addSignature,
  formatExpires,
  makeLink,
  parseArtifactRuleString,
  type ArtifactMap,
  type Inspection,
  type JsonObject,
  type Layout,
  type Link,
  type SignedLayout,
  type SignedLink,
  type Step,
} from '../../src/formats/index.ts';

export interface Functionary {
  readonly key: PrivateKey;
  readonly keyid: string;
  /** The public key as a layout lists it (securesystemslib JSON with "keyid"). */
  readonly layoutKey: JsonObject;
}

const cache = new Map<string, Functionary>();

/** A functionary key; the same `name` gives the same key within a test run (key generation is slow for RSA). */
export function functionary(name: string, type: KeyType = 'ed25519'): Functionary {
  const id = `${name}/${type}`;
  const existing = cache.get(id);
  if (existing !== undefined) return existing;
  const key = generateKeyPair(type);
  const sslib = key.publicKey.toSecuresystemslib();
  const f: Functionary = {
    key,
    keyid: key.publicKey.keyid,
    layoutKey: { ...sslib, keyval: { public: sslib.keyval.public }, keyid: key.publicKey.keyid },
  };
  cache.set(id, f);
  return f;
}

export const HASH_A = { sha256: 'a'.repeat(64) };
export const HASH_B = { sha256: 'b'.repeat(64) };
export const HASH_C = { sha256: 'c'.repeat(64) };

export function rules(...texts: string[]): ReturnType<typeof parseArtifactRuleString>[] {
  return texts.map(parseArtifactRuleString);
}

export function step(fields: Partial<Step> & { name: string; pubkeys: readonly string[] }): Step {
  return { expectedMaterials: [], expectedProducts: [], expectedCommand: [], threshold: 1, ...fields };
}

export function inspection(fields: Partial<Inspection> & { name: string }): Inspection {
  return { expectedMaterials: [], expectedProducts: [], run: [], ...fields };
}

export const FAR_FUTURE = new Date('2099-01-01T00:00:00Z');
export const NOW = new Date('2030-06-01T12:00:00Z');

export function layout(fields: { steps: Step[]; inspect?: Inspection[]; functionaries: Functionary[]; expires?: Date; readme?: string }): Layout {
  const keys: Record<string, JsonObject> = {};
  for (const f of fields.functionaries) keys[f.keyid] = f.layoutKey;
  return {
    steps: fields.steps,
    inspect: fields.inspect ?? [],
    keys,
    expires: formatExpires(fields.expires ?? FAR_FUTURE),
    readme: fields.readme ?? '',
  };
}

export async function signLayout(value: Layout, ...signers: PrivateKey[]): Promise<SignedLayout> {
  let signed: SignedLayout = { type: 'layout', signed: value, signatures: [] };
  for (const s of signers) signed = await addSignature(signed, s.signer());
  return signed;
}

export async function signLink(
  fields: { name: string; materials?: ArtifactMap; products?: ArtifactMap; command?: string[]; byproducts?: JsonObject },
  ...signers: PrivateKey[]
): Promise<SignedLink> {
  const value: Link = makeLink(fields);
  let signed: SignedLink = { type: 'link', signed: value, signatures: [] };
  for (const s of signers) signed = await addSignature(signed, s.signer());
  return signed;
}
