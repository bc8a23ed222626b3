// C2SP tlog-cosignature v1 (Ed25519, signature type 0x04): the message a witness signs and the
// timestamped signature layout. Keys and verifiers are in note-keys.ts.
import { ED25519_SIGNATURE_SIZE } from './ed25519.ts';

/** u64 timestamp ‖ 64-byte Ed25519 signature. */
export const COSIGNATURE_SIZE = 8 + ED25519_SIGNATURE_SIZE;

const MAX_TIMESTAMP = 2n ** 63n - 1n;

/**
 * tlog-cosignature: the signed message is `cosignature/v1\n`, `time <timestamp>\n` (ASCII decimal,
 * no leading zeros), then the whole checkpoint note text including its final newline.
 */
export function cosignatureMessage(checkpointText: Uint8Array, timestamp: number | bigint): Uint8Array {
  const header = Buffer.from(`cosignature/v1\ntime ${BigInt(timestamp).toString()}\n`, 'utf8');
  const out = new Uint8Array(header.length + checkpointText.length);
  out.set(header, 0);
  out.set(checkpointText, header.length);
  return out;
}

/**
 * Splits a cosignature (after the key ID) into timestamp and Ed25519 signature. Undefined if the
 * length is wrong or the timestamp exceeds 2^63 - 1 (tlog-cosignature: MUST NOT).
 */
export function parseCosignature(signature: Uint8Array): { timestamp: bigint; signature: Uint8Array } | undefined {
  if (signature.length !== COSIGNATURE_SIZE) return undefined;
  const timestamp = Buffer.from(signature.buffer, signature.byteOffset, 8).readBigUInt64BE(0);
  if (timestamp > MAX_TIMESTAMP) return undefined;
  return { timestamp, signature: signature.subarray(8) };
}
