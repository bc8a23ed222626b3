// Digests of bytes, streams and files, and in-toto DigestSet maps. Files are streamed, never
// read whole, so a multi-gigabyte artifact costs a fixed amount of memory.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { InputError } from './errors.ts';

export const DIGEST_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

/** in-toto DigestSet: algorithm name → lowercase hex digest. */
export type DigestSet = Record<string, string>;

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(name);
}

export function digestBytes(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return createHash(algorithm).update(data).digest('hex');
}

export function digestSetOfBytes(
  data: Uint8Array | string,
  algorithms: readonly DigestAlgorithm[] = ['sha256'],
): DigestSet {
  const set: DigestSet = {};
  for (const algorithm of algorithms) set[algorithm] = digestBytes(data, algorithm);
  return set;
}

/** Hashes a stream with every algorithm in one pass. */
export async function digestStream(
  stream: Readable | AsyncIterable<Uint8Array>,
  algorithms: readonly DigestAlgorithm[] = ['sha256'],
): Promise<DigestSet> {
  const hashes: [DigestAlgorithm, Hash][] = algorithms.map((a) => [a, createHash(a)]);
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    for (const [, hash] of hashes) hash.update(chunk);
  }
  const set: DigestSet = {};
  for (const [algorithm, hash] of hashes) set[algorithm] = hash.digest('hex');
  return set;
}

export async function digestFile(
  path: string,
  algorithms: readonly DigestAlgorithm[] = ['sha256'],
): Promise<DigestSet> {
  try {
    return await digestStream(createReadStream(path, { highWaterMark: 1 << 20 }), algorithms);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      cause: e,
    });
  }
}

/** True when the digest value has the right length and only lowercase hex for its algorithm. */
export function isValidDigestValue(algorithm: string, value: string): boolean {
  if (!isDigestAlgorithm(algorithm)) return /^[0-9a-f]+$/.test(value) && value.length > 0;
  return value.length === HEX_LENGTH[algorithm] && /^[0-9a-f]+$/.test(value);
}

/**
 * Two DigestSets name the same bytes when they share at least one algorithm and agree on every
 * algorithm they share (in-toto attestation ResourceDescriptor matching).
 */
export function digestSetsMatch(a: DigestSet, b: DigestSet): boolean {
  let shared = 0;
  for (const [algorithm, value] of Object.entries(a)) {
    const other = b[algorithm];
    if (other === undefined) continue;
    if (other.toLowerCase() !== value.toLowerCase()) return false;
    shared++;
  }
  return shared > 0;
}

/** Parses `sha256:<hex>` (the OCI / custody digest string form). */
export function parseDigestString(text: string): { algorithm: DigestAlgorithm; value: string } {
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const value = text.slice(colon + 1).toLowerCase();
  if (colon < 0 || !isDigestAlgorithm(algorithm) || !isValidDigestValue(algorithm, value)) {
    throw new InputError('INPUT_INVALID', `not a digest: '${text}' (expected sha256:<64 hex>, sha384:… or sha512:…)`);
  }
  return { algorithm, value };
}
