// Tests for digest.ts: known FIPS 180 vectors, streaming of large inputs against coreutils as the
// reference, bounded memory, DigestSet matching and the `alg:hex` digest string form.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DIGEST_ALGORITHMS,
  digestBytes,
  digestFile,
  digestSetOfBytes,
  digestSetsMatch,
  digestStream,
  isDigestAlgorithm,
  isValidDigestValue,
  parseDigestString,
  type DigestAlgorithm,
} from './digest.ts';
import { InputError, isCustodyError } from './errors.ts';

const MiB = 1 << 20;

// FIPS 180-2 appendix examples ("abc") and the empty message.
const ABC: Record<DigestAlgorithm, string> = {
  sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  sha384:
    'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
  sha512:
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
};
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Digest of a file by coreutils (`sha256sum` …): an implementation that is not ours. */
function coreutilsDigest(algorithm: DigestAlgorithm, path: string): string {
  return execFileSync(`${algorithm}sum`, ['--binary', path], { encoding: 'utf8' }).split(' ')[0]!;
}

/** Digest of a byte sequence piped into coreutils. */
async function coreutilsDigestOf(algorithm: DigestAlgorithm, source: AsyncIterable<Uint8Array>): Promise<string> {
  const child = spawn(`${algorithm}sum`, ['--binary', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(Readable.from(source), child.stdin);
  assert.equal(await exited, 0);
  return out.split(' ')[0]!;
}

function expectInputError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.code === code);
}

describe('digest', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'custody-digest-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('when hashing bytes', () => {
    it('reproduces the FIPS 180 "abc" vectors for every algorithm', () => {
      for (const algorithm of DIGEST_ALGORITHMS) assert.equal(digestBytes('abc', algorithm), ABC[algorithm]);
    });

    it('defaults to sha256 and hashes strings as UTF-8', () => {
      assert.equal(digestBytes(new Uint8Array()), EMPTY_SHA256);
      assert.equal(digestBytes('é'), digestBytes(new Uint8Array([0xc3, 0xa9])));
    });

    it('builds a DigestSet with one entry per requested algorithm', () => {
      assert.deepEqual(digestSetOfBytes('abc', ['sha256', 'sha512']), { sha256: ABC.sha256, sha512: ABC.sha512 });
      assert.deepEqual(digestSetOfBytes('abc'), { sha256: ABC.sha256 });
    });
  });

  describe('when hashing a stream', () => {
    it('gives the same DigestSet as hashing the bytes at once, however the bytes are split', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), async (chunks) => {
          const whole = Buffer.concat(chunks);
          const set = await digestStream(Readable.from(chunks.map((c) => Buffer.from(c))), [...DIGEST_ALGORITHMS]);
          assert.deepEqual(set, digestSetOfBytes(whole, [...DIGEST_ALGORITHMS]));
        }),
        { numRuns: 50 },
      );
    });

    it('hashes a >64 MiB generated stream chunk by chunk, as coreutils does', async () => {
      const size = 65 * MiB + 7;
      // One buffer, rewritten after every yield: an implementation that kept chunks to hash them
      // later (instead of hashing each as it arrives) would see only the last content and fail.
      // Between chunks the source yields to the event loop, as a socket would.
      async function* chunks(copy: boolean): AsyncGenerator<Uint8Array> {
        const buffer = Buffer.alloc(MiB);
        for (let offset = 0, i = 0; offset < size; offset += MiB, i++) {
          await setImmediate();
          const n = Math.min(MiB, size - offset);
          buffer.fill((i * 37 + 11) & 0xff, 0, n);
          buffer.writeUInt32BE(i, 0);
          const chunk = buffer.subarray(0, n);
          yield copy ? Buffer.from(chunk) : chunk;
        }
      }
      const set = await digestStream(chunks(false), [...DIGEST_ALGORITHMS]);
      for (const algorithm of DIGEST_ALGORITHMS) {
        assert.equal(set[algorithm], await coreutilsDigestOf(algorithm, chunks(true)), algorithm);
      }
    });
  });

  describe('when hashing a file', () => {
    it('agrees with coreutils on a >64 MiB file for sha256, sha384 and sha512 in one pass', async () => {
      const path = join(dir, 'large.bin');
      truncateSync(openAndClose(path), 65 * MiB + 3);
      // Distinct bytes around chunk boundaries (the reader uses 1 MiB chunks) and at the end.
      const fd = openSync(path, 'r+');
      for (const offset of [0, MiB - 2, 17 * MiB + 5, 64 * MiB - 1, 65 * MiB]) {
        writeSync(fd, Buffer.from(`custody@${offset}`.slice(0, 3)), 0, 3, offset);
      }
      closeSync(fd);
      const set = await digestFile(path, [...DIGEST_ALGORITHMS]);
      assert.deepEqual(Object.keys(set).sort(), [...DIGEST_ALGORITHMS].sort());
      for (const algorithm of DIGEST_ALGORITHMS) assert.equal(set[algorithm], coreutilsDigest(algorithm, path), algorithm);
    });

    it('streams a 256 MiB file without holding it in memory', () => {
      const path = join(dir, 'huge.bin');
      truncateSync(openAndClose(path), 256 * MiB);
      // A fresh process, so the peak resident size reflects this digest alone.
      const script = `
        const { digestFile } = await import(${JSON.stringify(new URL('./digest.ts', import.meta.url).href)});
        const before = process.resourceUsage().maxRSS;
        const set = await digestFile(process.argv[1]);
        process.stdout.write(JSON.stringify({ growthKiB: process.resourceUsage().maxRSS - before, sha256: set.sha256 }));
      `;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, path], { encoding: 'utf8' });
      const { growthKiB, sha256 } = JSON.parse(out) as { growthKiB: number; sha256: string };
      assert.equal(sha256, coreutilsDigest('sha256', path));
      // Reading the file whole would grow the process by at least 256 MiB; streaming by a few
      // chunks plus garbage not yet collected.
      assert.ok(growthKiB < 128 * 1024, `peak memory grew by ${growthKiB} KiB while hashing a 256 MiB file`);
    });

    it('hashes an empty file', async () => {
      const path = join(dir, 'empty');
      openAndClose(path);
      assert.deepEqual(await digestFile(path), { sha256: EMPTY_SHA256 });
    });

    it('reports a missing file or a directory as FILE_UNREADABLE', async () => {
      for (const path of [join(dir, 'missing'), dir]) {
        await assert.rejects(digestFile(path), (e: unknown) => e instanceof InputError && e.code === 'FILE_UNREADABLE');
      }
    });
  });

  describe('when matching DigestSets', () => {
    const a = ABC.sha256;
    const b = EMPTY_SHA256;

    it('matches when they share an algorithm and agree on it', () => {
      assert.equal(digestSetsMatch({ sha256: a }, { sha256: a, sha512: ABC.sha512 }), true);
    });

    it('does not match when any shared algorithm disagrees, even if another agrees', () => {
      assert.equal(digestSetsMatch({ sha256: a, sha512: ABC.sha512 }, { sha256: b, sha512: ABC.sha512 }), false);
      assert.equal(digestSetsMatch({ sha512: ABC.sha512, sha256: a }, { sha256: b, sha512: ABC.sha512 }), false);
    });

    it('does not match when they share no algorithm, or either is empty', () => {
      assert.equal(digestSetsMatch({ sha256: a }, { sha512: ABC.sha512 }), false);
      assert.equal(digestSetsMatch({}, { sha256: a }), false);
      assert.equal(digestSetsMatch({ sha256: a }, {}), false);
    });

    it('compares hex without regard to case', () => {
      assert.equal(digestSetsMatch({ sha256: a.toUpperCase() }, { sha256: a }), true);
    });

    it('is symmetric', () => {
      const hex = fc.constantFrom(a, b, a.toUpperCase());
      const set = fc.dictionary(fc.constantFrom('sha256', 'sha512', 'gitCommit'), hex, { noNullPrototype: true });
      fc.assert(fc.property(set, set, (x, y) => digestSetsMatch(x, y) === digestSetsMatch(y, x)));
    });
  });

  describe('when validating digest values', () => {
    it('requires the exact hex length of a known algorithm, lowercase only', () => {
      assert.equal(isValidDigestValue('sha256', ABC.sha256), true);
      assert.equal(isValidDigestValue('sha384', ABC.sha384), true);
      assert.equal(isValidDigestValue('sha512', ABC.sha512), true);
      assert.equal(isValidDigestValue('sha256', ABC.sha256.slice(1)), false);
      assert.equal(isValidDigestValue('sha256', ABC.sha384), false);
      assert.equal(isValidDigestValue('sha256', ABC.sha256.toUpperCase()), false);
      assert.equal(isValidDigestValue('sha256', `${ABC.sha256.slice(1)}g`), false);
    });

    it('accepts any non-empty lowercase hex for other algorithms', () => {
      assert.equal(isValidDigestValue('gitCommit', 'abc123'), true);
      assert.equal(isValidDigestValue('gitCommit', ''), false);
      assert.equal(isValidDigestValue('gitCommit', 'xyz'), false);
    });

    it('knows exactly the three algorithms it computes', () => {
      assert.deepEqual(
        ['sha256', 'sha384', 'sha512', 'sha1', 'md5', 'SHA256', ''].map(isDigestAlgorithm),
        [true, true, true, false, false, false, false],
      );
    });
  });

  describe('when parsing a digest string', () => {
    it('splits algorithm and value, lowercasing the hex', () => {
      assert.deepEqual(parseDigestString(`sha256:${ABC.sha256}`), { algorithm: 'sha256', value: ABC.sha256 });
      assert.deepEqual(parseDigestString(`sha512:${ABC.sha512.toUpperCase()}`), { algorithm: 'sha512', value: ABC.sha512 });
    });

    it('rejects a missing colon, an unknown or mis-cased algorithm, and a wrong length with INPUT_INVALID', () => {
      for (const text of [
        ABC.sha256,
        `sha1:${'a'.repeat(40)}`,
        `SHA256:${ABC.sha256}`,
        `sha256:${ABC.sha256}0`,
        `sha256:${ABC.sha384}`,
        `sha256:${ABC.sha256.slice(2)}zz`,
        `sha256: ${ABC.sha256}`,
        'sha256:',
        ':',
        '',
      ]) {
        expectInputError(() => parseDigestString(text), 'INPUT_INVALID');
      }
    });

    it('never throws anything but INPUT_INVALID on arbitrary text', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string().map((s) => `sha256:${s}`)), (text) => {
          try {
            const { algorithm, value } = parseDigestString(text);
            assert.ok(isValidDigestValue(algorithm, value));
          } catch (e) {
            assert.ok(isCustodyError(e) && e.code === 'INPUT_INVALID');
          }
        }),
      );
    });
  });
});

function openAndClose(path: string): string {
  closeSync(openSync(path, 'w'));
  return path;
}
