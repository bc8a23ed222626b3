// SSH wire encoding (RFC 4251 §5): uint32, string and mpint, read from and written to byte buffers.
// Used for SSH public key blobs, SSHSIG blobs and OpenSSH private keys.
import { InputError } from '../core/index.ts';

export class SshReader {
  private offset = 0;
  private readonly bytes: Uint8Array;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number): void {
    if (n > this.remaining) throw new InputError('INPUT_INVALID', `${this.what}: truncated (need ${n} bytes, ${this.remaining} left)`);
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  uint32(): number {
    this.need(4);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o] as number) * 0x1000000) + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
  }

  /** RFC 4251 `string`: uint32 length then that many bytes. */
  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  text(): string {
    return Buffer.from(this.string()).toString('utf8');
  }

  /** RFC 4251 `mpint` as unsigned big-endian bytes without leading zeros (rejects negatives). */
  mpint(): Uint8Array {
    const v = this.string();
    if (v.length > 0 && ((v[0] as number) & 0x80) !== 0) throw new InputError('INPUT_INVALID', `${this.what}: negative mpint`);
    let i = 0;
    while (i < v.length && v[i] === 0) i++;
    return v.subarray(i);
  }

  end(): void {
    if (this.remaining !== 0) throw new InputError('INPUT_INVALID', `${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

export function sshUint32(n: number): Uint8Array {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

export function sshString(value: Uint8Array | string): Uint8Array {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

/** Unsigned big-endian bytes → RFC 4251 mpint (leading zero when the top bit is set). */
export function sshMpint(unsigned: Uint8Array): Uint8Array {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  const body = v.length > 0 && ((v[0] as number) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v;
  return sshString(body);
}
