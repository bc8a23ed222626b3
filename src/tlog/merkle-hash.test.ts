import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { emptyRoot, hashesEqual, leafHash, merkleTreeHash, nodeHash, rootFromLeafHashes } from './merkle-hash.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = readFileSync(new URL('./fixtures/c2sp/testonly-leaves.b64', import.meta.url), 'utf8')
  .replace(/\n$/, '')
  .split('\n') // the first leaf is empty: an empty line
  .map((l) => new Uint8Array(Buffer.from(l, 'base64')));

describe('merkle-hash', () => {
  describe('when hashing the transparency-dev testonly leaves', () => {
    it('gives the published size-8 root', () => {
      assert.equal(leaves.length, 8);
      assert.equal(hex(merkleTreeHash(leaves)), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    });
  });

  describe('when hashing single items', () => {
    it('prefixes leaves with 0x00 and nodes with 0x01 (RFC 6962 §2.1)', () => {
      // SHA-256(0x00): the hash of the empty leaf.
      assert.equal(hex(leafHash(new Uint8Array(0))), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
      const a = leafHash(Uint8Array.of(1));
      const b = leafHash(Uint8Array.of(2));
      assert.notEqual(hex(nodeHash(a, b)), hex(nodeHash(b, a)));
      assert.equal(hex(rootFromLeafHashes([a, b])), hex(nodeHash(a, b)));
    });

    it('hashes the empty tree to SHA-256 of nothing', () => {
      assert.equal(hex(emptyRoot()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      assert.equal(hex(merkleTreeHash([])), hex(emptyRoot()));
    });

    it('splits an odd tree at the largest power of two (MTH of 3 leaves)', () => {
      const [a, b, c] = [1, 2, 3].map((n) => leafHash(Uint8Array.of(n))) as [Uint8Array, Uint8Array, Uint8Array];
      assert.equal(hex(rootFromLeafHashes([a, b, c])), hex(nodeHash(nodeHash(a, b), c)));
    });
  });

  describe('hashesEqual', () => {
    it('compares content and length', () => {
      assert.equal(hashesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
      assert.equal(hashesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
      assert.equal(hashesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0)), false);
    });
  });
});
