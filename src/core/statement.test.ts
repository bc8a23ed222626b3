// Tests for statement.ts: the in-toto/attestation Go validator's own test cases (ported as data),
// the spec's parsing rules, and a real SLSA provenance statement.
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from './errors.ts';
import {
  STATEMENT_TYPE_V01,
  STATEMENT_TYPE_V1,
  makeStatement,
  parseResourceDescriptor,
  parseStatement,
  subjectsMatching,
} from './statement.ts';

interface GoCase {
  goTest: string;
  json: string;
  /** The Go validator's sentinel error, or null when it accepts the input. */
  error: string | null;
}
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const goCases = fixture('intoto-attestation-go-cases.json') as { statement: GoCase[]; resourceDescriptor: GoCase[] };

const SHA256 = 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf';
const SHA512 = 'b'.repeat(128);

function expectInvalid(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.code === 'STATEMENT_INVALID');
}

function statementWith(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: 'a.txt', digest: { sha256: SHA256 } }],
    predicateType: 'https://example.com/p/v1',
    predicate: { k: 'v' },
    ...fields,
  };
}

describe('statement', () => {
  describe('when given the Go validator test cases (in-toto/attestation go/v1)', () => {
    for (const c of goCases.statement) {
      it(`${c.error === null ? 'accepts' : 'rejects'} ${c.goTest}${c.error === null ? '' : ` (${c.error})`}`, () => {
        const json = JSON.parse(c.json) as unknown;
        if (c.error === null) assert.ok(parseStatement(json));
        else expectInvalid(() => parseStatement(json));
      });
    }
    for (const c of goCases.resourceDescriptor) {
      it(`${c.error === null ? 'accepts' : 'rejects'} resource descriptor ${c.goTest}${c.error === null ? '' : ` (${c.error})`}`, () => {
        const json = JSON.parse(c.json) as unknown;
        if (c.error === null) assert.ok(parseResourceDescriptor(json));
        else expectInvalid(() => parseResourceDescriptor(json));
      });
    }

    it('reads TestJsonUnmarshalStatement into the statement the Go test builds', () => {
      const c = goCases.statement.find((x) => x.goTest === 'TestJsonUnmarshalStatement')!;
      assert.deepEqual(parseStatement(JSON.parse(c.json)), {
        _type: STATEMENT_TYPE_V1,
        subject: [{ name: 'theSub', digest: { alg1: 'abc123' } }],
        predicateType: 'thePredicate',
        predicate: { keyObj: { subKey: 'subVal' } },
      });
    });

    it('reads every field of the full resource descriptor (wantFullRd)', () => {
      const c = goCases.resourceDescriptor.find((x) => x.goTest.includes('wantFullRd'))!;
      assert.deepEqual(parseResourceDescriptor(JSON.parse(c.json)), {
        name: 'theName',
        uri: 'https://example.com',
        digest: { alg1: 'abc123' },
        content: 'Ynl0ZXNjb250ZW50',
        downloadLocation: 'https://example.com/test.zip',
        mediaType: 'theMediaType',
        annotations: { a1: { keyNum: 13, keyStr: 'value1' }, a2: { keyObj: { subKey: 'subVal' } } },
      });
    });
  });

  describe('when checking digests as the Go validator does', () => {
    it('checks hex and length of known algorithms, including SHA-1 and SHA-256 git object ids', () => {
      const ok = { sha256: SHA256, sha512: SHA512, sha1: 'a'.repeat(40), md5: 'c'.repeat(32), gitTree: 'd'.repeat(64), dirHash: 'e'.repeat(64), sha3_384: 'f'.repeat(96) };
      assert.deepEqual(parseResourceDescriptor({ digest: ok }).digest, ok);
      for (const digest of [{ sha256: SHA256.slice(1) }, { sha256: `${SHA256}00` }, { gitBlob: 'a'.repeat(48) }, { sha256: '' }, { sha1: `${'a'.repeat(39)}g` }, { md5: 'abc' }]) {
        expectInvalid(() => parseResourceDescriptor({ name: 'x', digest }));
      }
    });

    it('accepts uppercase hex, as Go hex.DecodeString does', () => {
      assert.ok(parseResourceDescriptor({ digest: { sha256: SHA256.toUpperCase() } }));
    });

    it('treats algorithm names that are Object.prototype members as custom algorithms', () => {
      // Regression: {"constructor": "abcd"} used to crash the length lookup with a TypeError.
      for (const algorithm of ['constructor', 'toString', 'hasOwnProperty']) {
        const json = JSON.parse(`{"name":"x","digest":{"${algorithm}":"abcd"}}`) as unknown;
        assert.deepEqual(parseResourceDescriptor(json).digest, JSON.parse(`{"${algorithm}":"abcd"}`));
      }
    });

    it('lets custom algorithms through unchecked, but requires string values', () => {
      assert.ok(parseResourceDescriptor({ digest: { myHash: 'not hex at all' } }));
      expectInvalid(() => parseResourceDescriptor({ name: 'x', digest: { myHash: 12 } }));
      expectInvalid(() => parseResourceDescriptor({ name: 'x', digest: ['sha256', SHA256] }));
      expectInvalid(() => parseResourceDescriptor({ name: 'x', digest: 'sha256:abc' }));
    });
  });

  describe('when applying the spec parsing rules', () => {
    it('treats an empty name or uri as unset (Go: GetName() == "")', () => {
      // Regression: {"name": ""} used to pass the "one of name, uri, digest" rule.
      expectInvalid(() => parseResourceDescriptor({ name: '' }));
      expectInvalid(() => parseResourceDescriptor({ uri: '', name: '', digest: {} }));
      expectInvalid(() => parseStatement(statementWith({ subject: [{ name: '', downloadLocation: 'https://x' }] })));
    });

    it('treats null fields as unset ("Unset, null, and empty field values MUST be interpreted equivalently")', () => {
      // Regression: a null optional field used to be rejected as "must be a string".
      const rd = parseResourceDescriptor({ name: null, uri: 'https://x', digest: null, annotations: null, mediaType: null });
      assert.deepEqual(rd, { uri: 'https://x' });
      const st = parseStatement(statementWith({ subject: [{ name: null, digest: { sha256: SHA256 }, content: null }] }));
      assert.deepEqual(st.subject, [{ digest: { sha256: SHA256 } }]);
      expectInvalid(() => parseResourceDescriptor({ name: null, uri: null, digest: null }));
    });

    it('ignores unrecognized fields', () => {
      const st = parseStatement(statementWith({ extra: 1, subject: [{ name: 'a.txt', digest: { sha256: SHA256 }, future: true }] }));
      assert.deepEqual(st.subject, [{ name: 'a.txt', digest: { sha256: SHA256 } }]);
      assert.equal('extra' in st, false);
    });

    it('keeps the v0.1 type it accepts', () => {
      assert.equal(parseStatement(statementWith({ _type: STATEMENT_TYPE_V01 }))._type, STATEMENT_TYPE_V01);
    });

    it('rejects wrongly typed fields with STATEMENT_INVALID', () => {
      const bad: unknown[] = [
        null,
        [],
        'statement',
        statementWith({ _type: undefined }),
        statementWith({ _type: 'https://in-toto.io/Statement/v1/' }),
        statementWith({ subject: undefined }),
        statementWith({ subject: { name: 'a', digest: { sha256: SHA256 } } }),
        statementWith({ subject: [null] }),
        statementWith({ subject: ['a.txt'] }),
        statementWith({ subject: [{ name: 7, digest: { sha256: SHA256 } }] }),
        statementWith({ subject: [{ name: 'a', digest: { sha256: SHA256 }, annotations: [] }] }),
        statementWith({ subject: [{ name: 'a', digest: {} }] }),
        statementWith({ predicateType: undefined }),
        statementWith({ predicateType: 5 }),
        statementWith({ predicate: undefined }),
        statementWith({ predicate: null }),
        statementWith({ predicate: [] }),
        statementWith({ predicate: 'p' }),
      ];
      for (const json of bad) expectInvalid(() => parseStatement(json));
    });

    it('accepts an empty predicate object', () => {
      assert.deepEqual(parseStatement(statementWith({ predicate: {} })).predicate, {});
    });
  });

  describe('when reading a real SLSA provenance v1 statement', () => {
    it('parses it, keeping predicate type, subject and predicate', () => {
      const json = fixture('slsa-provenance-v1-statement.json') as Record<string, unknown>;
      const st = parseStatement(json);
      assert.equal(st._type, STATEMENT_TYPE_V1);
      assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
      assert.deepEqual(st.subject, [{ name: 'a.txt', digest: { sha256: SHA256 } }]);
      assert.deepEqual(st.predicate, json['predicate']);
      assert.ok('buildDefinition' in st.predicate && 'runDetails' in st.predicate);
    });
  });

  describe('when making and matching statements', () => {
    it('makes a v1 statement that parses back to itself', () => {
      const st = makeStatement([{ name: 'a.txt', digest: { sha256: SHA256 } }], 'https://example.com/p/v1', { ok: true });
      assert.deepEqual(parseStatement(JSON.parse(JSON.stringify(st))), st);
    });

    it('finds the subjects whose digests name given bytes', () => {
      const st = makeStatement(
        [
          { name: 'a', digest: { sha256: SHA256 } },
          { name: 'b', digest: { sha256: 'f'.repeat(64), sha512: SHA512 } },
          { name: 'c', digest: { sha512: SHA512 } },
        ],
        'p',
        {},
      );
      assert.deepEqual(subjectsMatching(st, { sha256: SHA256 }).map((s) => s.name), ['a']);
      assert.deepEqual(subjectsMatching(st, { sha512: SHA512 }).map((s) => s.name), ['b', 'c']);
      // b disagrees on sha256, so it does not match even though sha512 agrees.
      assert.deepEqual(subjectsMatching(st, { sha256: SHA256, sha512: SHA512 }).map((s) => s.name), ['a', 'c']);
      assert.deepEqual(subjectsMatching(st, { sha384: 'a'.repeat(96) }), []);
    });
  });
});
