// ECDSA signature encodings: PKCS#11 (CKM_ECDSA) returns raw r‖s (IEEE P1363); custody, sigstore
// and securesystemslib use ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` (SEC 1 §C.5).

function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let v = Buffer.from(bytes.subarray(i));
  // A set high bit would make the INTEGER negative: prefix a zero byte (X.690 §8.3).
  if ((v[0]! & 0x80) !== 0) v = Buffer.concat([Buffer.of(0), v]);
  return Buffer.concat([Buffer.of(0x02), derLength(v.length), v]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  if (n < 0x100) return Buffer.of(0x81, n);
  return Buffer.of(0x82, n >> 8, n & 0xff);
}

/** raw r‖s (equal halves) → DER. */
export function rawEcdsaToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error(`raw ECDSA signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return Buffer.concat([Buffer.of(0x30), derLength(body.length), body]);
}

/** r and s as big-endian integers → DER. */
export function ecdsaIntegersToDer(r: bigint, s: bigint, size: number): Uint8Array {
  const hex = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex');
  return rawEcdsaToDer(Buffer.concat([hex(r), hex(s)]));
}
