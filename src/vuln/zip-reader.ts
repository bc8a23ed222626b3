// Reads the entries of a ZIP archive (APPNOTE.TXT §4.3: end of central directory → central
// directory → local headers), as the OSV per-ecosystem exports (`all.zip`) are. Stored and
// deflated entries only; ZIP64 archives are refused.
import { inflateRawSync } from 'node:zlib';
import { InputError } from '../core/index.ts';

export interface ZipEntry {
  name: string;
  data(): Buffer;
}

function fail(what: string, message: string): never {
  throw new InputError('INPUT_INVALID', `${what}: ${message}`);
}

export function readZip(buf: Buffer, what = 'zip archive'): ZipEntry[] {
  // §4.3.16: the end of central directory record (0x06054b50) is within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail(what, 'no end of central directory record (not a zip file?)');
  const count = buf.readUInt16LE(eocd + 10);
  const size = buf.readUInt32LE(eocd + 12);
  let offset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) fail(what, 'ZIP64 archives are not supported');
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (offset + 46 > buf.length || buf.readUInt32LE(offset) !== 0x02014b50) fail(what, 'corrupt central directory');
    const method = buf.readUInt16LE(offset + 10);
    const compressed = buf.readUInt32LE(offset + 20);
    const uncompressed = buf.readUInt32LE(offset + 24);
    const nameLen = buf.readUInt16LE(offset + 28);
    const extraLen = buf.readUInt16LE(offset + 30);
    const commentLen = buf.readUInt16LE(offset + 32);
    const local = buf.readUInt32LE(offset + 42);
    const name = buf.toString('utf8', offset + 46, offset + 46 + nameLen);
    offset += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    entries.push({
      name,
      data: () => {
        if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) fail(what, `corrupt local header for ${name}`);
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + compressed);
        if (raw.length !== compressed) fail(what, `truncated entry ${name}`);
        if (method === 0) return Buffer.from(raw);
        if (method === 8) {
          const out = inflateRawSync(raw, { maxOutputLength: Math.max(uncompressed, 1) });
          return out;
        }
        return fail(what, `entry ${name} uses compression method ${method} (only stored and deflate are supported)`);
      },
    });
  }
  return entries;
}
