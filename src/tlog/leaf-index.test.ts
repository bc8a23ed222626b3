import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { LeafIndex, indexLeaves, lookupLeaves } from './leaf-index.ts';
import { leafHash } from './merkle-hash.ts';
import { generateNoteKey, parseSignerKey } from './note-keys.ts';
import { appendToPosixLog, FileTileFetcher } from './posix-log.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('LeafIndex: candidates hold every index added under a 64-bit prefix, across growth', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3000 }), (leaves) => {
      const index = new LeafIndex(2);
      leaves.forEach((l, i) => index.add(l, i));
      assert.equal(index.count, leaves.length);
      leaves.forEach((l, i) => {
        const c = index.candidates(l);
        assert.ok(c.includes(i));
        for (const j of c) assert.equal(hex(leaves[j]!.subarray(0, 8)), hex(l.subarray(0, 8)));
      });
    }),
    { numRuns: 30 },
  );
  // And at a size where the table grows many times.
  const many = Array.from({ length: 200_000 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
  const index = new LeafIndex();
  many.forEach((l, i) => index.add(l, i));
  many.forEach((l, i) => assert.deepEqual(index.candidates(l), [i]));
  assert.deepEqual(index.candidates(leafHash(Buffer.from('absent'))), []);
});

test('LeafIndex: a leaf sharing only the 64-bit prefix is a candidate that lookupLeaves rejects', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-leaf-index-'));
  try {
    const key = parseSignerKey(generateNoteKey('example.com/leaf-index').signerKey);
    const entries = Array.from({ length: 600 }, (_, i) => Buffer.from(`entry ${i}`));
    // Logged without deduplication: "entry 5" twice; the first index must win.
    entries.push(Buffer.from('entry 5'));
    await appendToPosixLog({ dir, origin: key.verifier.name, key }, entries.slice(0, 300));
    await appendToPosixLog({ dir, origin: key.verifier.name, key }, entries.slice(300));
    const fetcher = new FileTileFetcher(dir);
    const index = new LeafIndex();
    await indexLeaves(index, fetcher, 300);
    assert.equal(index.size, 300);
    await indexLeaves(index, fetcher, entries.length); // catch-up from a partial tile
    assert.equal(index.size, entries.length);
    assert.equal(index.count, entries.length - 1);

    const wanted = [leafHash(Buffer.from('entry 5')), leafHash(Buffer.from('entry 599')), leafHash(Buffer.from('not logged'))];
    const found = await lookupLeaves(index, fetcher, index.size, wanted);
    assert.equal(found.get(hex(wanted[0]!)), 5);
    assert.equal(found.get(hex(wanted[1]!)), 599);
    assert.equal(found.has(hex(wanted[2]!)), false);

    // Same first 8 bytes as entry 7's leaf hash, different rest: a candidate, not a match.
    const twin = new Uint8Array(leafHash(Buffer.from('entry 7')));
    twin[31] = twin[31]! ^ 1;
    assert.ok(index.candidates(twin).includes(7));
    assert.equal((await lookupLeaves(index, fetcher, index.size, [twin])).size, 0);
    // Entries past the given tree size are not reported.
    assert.equal((await lookupLeaves(index, fetcher, 500, [wanted[1]!])).size, 0);

    // A missing tile fails the build with TILE_MISSING (and leaves no unhandled read-ahead).
    unlinkSync(join(dir, 'tile', '0', '001'));
    await assert.rejects(indexLeaves(new LeafIndex(), fetcher, entries.length), (e: unknown) => (e as { code?: string }).code === 'TILE_MISSING');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
