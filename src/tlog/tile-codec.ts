// C2SP tlog-tiles resource bodies: hash tiles (concatenated 32-byte hashes) and entry bundles
// (big-endian uint16 length-prefixed entries). Pure encoders and strict decoders.
import { InputError, VerificationError } from '../core/index.ts';
import { HASH_SIZE } from './merkle-hash.ts';
import { TILE_WIDTH } from './tile-path.ts';

/** An entry bundle length prefix is a uint16, so one entry is at most 65,535 bytes. */
export const MAX_ENTRY_SIZE = 0xffff;

/** Concatenates a tile's hashes. */
export function encodeHashTile(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length < 1 || hashes.length > TILE_WIDTH) throw new InputError('INPUT_INVALID', 'a tile holds 1..256 hashes');
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw new InputError('INPUT_INVALID', 'tile hashes are 32 bytes');
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/**
 * Splits a tile body into its hashes. tlog-tiles: a full tile is exactly 8,192 bytes; a tile of
 * width W is W·32 bytes. A longer body is accepted only with `allowLonger` (a full tile read in
 * place of a vanished partial one is truncated to `width`).
 */
export function decodeHashTile(data: Uint8Array, width: number, options: { allowLonger?: boolean } = {}): Uint8Array[] {
  const want = width * HASH_SIZE;
  const ok = data.length === want || (options.allowLonger === true && data.length >= want && data.length % HASH_SIZE === 0);
  if (!ok) {
    throw new VerificationError('TILE_INVALID', `tile has ${data.length} bytes, want ${want} (${width} hashes)`);
  }
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < width; i++) hashes.push(data.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return hashes;
}

/** Throws INPUT_INVALID if an entry cannot go into an entry bundle. */
export function requireBundleableEntry(entry: Uint8Array, what = 'entry'): void {
  if (!(entry instanceof Uint8Array)) throw new InputError('INPUT_INVALID', `${what} is not bytes`);
  if (entry.length > MAX_ENTRY_SIZE) {
    throw new InputError('INPUT_INVALID', `${what} has ${entry.length} bytes; tlog-tiles entries are at most ${MAX_ENTRY_SIZE}`);
  }
}

/** tlog-tiles: entry bundles are sequences of big-endian uint16 length-prefixed entries. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) throw new InputError('INPUT_INVALID', 'a bundle holds 1..256 entries');
  let total = 0;
  for (const e of entries) {
    requireBundleableEntry(e);
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >>> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/**
 * Decodes an entry bundle strictly: exactly `width` entries and no trailing bytes. With
 * `allowLonger`, a bundle with more entries (a full bundle read for a vanished partial one) is
 * cut to `width`.
 */
export function decodeEntryBundle(data: Uint8Array, width: number, options: { allowLonger?: boolean } = {}): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    if (entries.length === width) {
      if (options.allowLonger === true) break;
      throw new VerificationError('TILE_INVALID', `entry bundle has more than ${width} entries`);
    }
    if (at + 2 > data.length) throw new VerificationError('TILE_INVALID', 'entry bundle ends inside a length prefix');
    const len = (data[at]! << 8) | data[at + 1]!;
    if (at + 2 + len > data.length) throw new VerificationError('TILE_INVALID', 'entry bundle ends inside an entry');
    entries.push(data.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (entries.length !== width) {
    throw new VerificationError('TILE_INVALID', `entry bundle has ${entries.length} entries, want ${width}`);
  }
  return entries;
}
