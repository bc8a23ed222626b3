import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InputError, VerificationError } from '../core/index.ts';
import { formatSignatureLine, MAX_NOTE_SIGNATURES, openNote, parseNote, signNote } from './note.ts';
import type { NoteVerifier } from './note-keys.ts';
import { generateNoteKey, noteKeyId, parseSignerKey, parseVerifierKey } from './note-keys.ts';

// eslint-disable-next-line no-control-regex
const hasControl = (s: string) => /[\u0000-\u001f]/.test(s);

const fixture = (name: string) => readFileSync(new URL(`./fixtures/c2sp/${name}`, import.meta.url), 'utf8');

// golang.org/x/mod sumdb/note test key (fixtures/README.md).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const EXAMPLE_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';

const code = (c: string) => (e: unknown) => (e instanceof InputError || e instanceof VerificationError) && e.code === c;

describe('note', () => {
  describe('when signing the golang.org/x/mod test text with its test key', () => {
    it('gives byte-identical output to Go', async () => {
      const { signer } = parseSignerKey(PETER_SKEY);
      assert.equal(await signNote(PETER_TEXT, [signer]), fixture('x-mod-note-signed.txt'));
    });
    it('replaces an existing signature by the same key, as Go does', async () => {
      const { signer } = parseSignerKey(PETER_SKEY);
      const stale = { name: 'PeterNeumann', keyId: 0xc74f20a3, signature: Uint8Array.of(1, 2, 3) };
      assert.equal(await signNote(PETER_TEXT, [signer], [stale]), fixture('x-mod-note-signed.txt'));
    });
    it('opens with the matching verifier key', () => {
      const note = openNote(fixture('x-mod-note-signed.txt'), [parseVerifierKey(PETER_VKEY)]);
      assert.equal(note.text, PETER_TEXT);
      assert.equal(note.verified.length, 1);
      assert.equal(note.verified[0]!.keyId, 0xc74f20a3);
      assert.deepEqual(note.unverified, []);
    });
  });

  describe('when opening the C2SP signed-note example', () => {
    it('verifies with the published key', () => {
      const note = openNote(Buffer.from(fixture('signed-note-example.txt')), [parseVerifierKey(EXAMPLE_VKEY)]);
      assert.equal(note.text, 'This is an example message.\n');
      assert.equal(note.verified[0]!.name, 'example.com/foo');
    });
  });

  describe('when the signers are not all known', () => {
    const signed = fixture('x-mod-note-signed.txt');
    const other = parseSignerKey(generateNoteKey('other.example/key').signerKey);

    it('keeps unknown signatures unverified and requires one known valid signature', async () => {
      const both = await signNote(PETER_TEXT, [other.signer], parseNote(signed).signatures);
      const note = openNote(both, [parseVerifierKey(PETER_VKEY)]);
      assert.equal(note.verified.length, 1);
      assert.deepEqual(note.unverified.map((s) => s.name), ['other.example/key']);
      assert.throws(() => openNote(signed, [other.verifier]), code('SIGNATURE_MISSING'));
      assert.throws(() => openNote(signed, []), code('SIGNATURE_MISSING'));
    });

    it('ignores a key sharing only the name or only the key ID (signed-note)', () => {
      const peter = parseVerifierKey(PETER_VKEY);
      const sameName: NoteVerifier = { name: peter.name, keyId: peter.keyId ^ 1, verify: () => true };
      const sameId: NoteVerifier = { name: 'PeterNeumann2', keyId: peter.keyId, verify: () => true };
      assert.throws(() => openNote(signed, [sameName, sameId]), code('SIGNATURE_MISSING'));
    });

    it('rejects the whole note when a known key signature fails', () => {
      const tampered = signed.replace('problem is.', 'problem is!');
      assert.throws(() => openNote(tampered, [parseVerifierKey(PETER_VKEY)]), code('SIGNATURE_INVALID'));
      const liar: NoteVerifier = { name: 'PeterNeumann', keyId: 0xc74f20a3, verify: () => false };
      assert.throws(() => openNote(signed, [liar]), code('SIGNATURE_INVALID'));
    });

    it('refuses two verifiers with the same name and key ID', () => {
      const v = parseVerifierKey(PETER_VKEY);
      assert.throws(() => openNote(signed, [v, { ...v }]), code('KEY_INVALID'));
    });
  });

  describe('when the note is malformed', () => {
    const signed = fixture('x-mod-note-signed.txt');
    const sigLine = signed.slice(signed.lastIndexOf('\n\n') + 2);
    const cases: [string, string | Uint8Array][] = [
      ['no blank line before signatures', signed.replace('\n\n', '\n')],
      ['no final newline', signed.slice(0, -1)],
      ['empty signature block', `${PETER_TEXT}\n`],
      ['a control character', signed.replace('cryptography', 'crypto\tgraphy')],
      ['a carriage return', signed.replace('\n\n', '\r\n\n')],
      ['a hyphen instead of the em dash', signed.replace('\u2014', '-')],
      ['no space after the name', signed.replace('PeterNeumann ', 'PeterNeumann')],
      ['a plus in the name', signed.replace('PeterNeumann ', 'Peter+Neumann ')],
      ['bad base64', signed.replace('x08go', 'x08g!')],
      ['non-canonical base64 padding bits', signed.replace('JnAM=', 'JnAN=')],
      ['a signature shorter than 5 bytes', `${PETER_TEXT}\n\u2014 PeterNeumann AAAAAA==\n`],
      ['invalid UTF-8', Uint8Array.of(...Buffer.from(PETER_TEXT), 0xff, ...Buffer.from(`\n\n${sigLine}`))],
      ['too many signatures', `${PETER_TEXT}\n${sigLine.repeat(MAX_NOTE_SIGNATURES + 1)}`],
    ];
    for (const [what, note] of cases) {
      it(`rejects ${what} with NOTE_INVALID`, () => {
        assert.throws(() => openNote(note, [parseVerifierKey(PETER_VKEY)]), code('NOTE_INVALID'));
      });
    }

    it('splits text from signatures at the last blank line', () => {
      // The first signature line becomes part of the text, so the signature no longer matches.
      assert.equal(parseNote(`${signed}\n${sigLine}`).text, signed);
      assert.throws(() => openNote(`${signed}\n${sigLine}`, [parseVerifierKey(PETER_VKEY)]), code('SIGNATURE_INVALID'));
    });

    it('accepts up to the signature limit and keeps repeated lines once', () => {
      const note = openNote(`${PETER_TEXT}\n${sigLine.repeat(MAX_NOTE_SIGNATURES)}`, [parseVerifierKey(PETER_VKEY)]);
      assert.equal(note.verified.length, 1);
    });

    it('fails only with NOTE_INVALID on arbitrary input (fuzz)', () => {
      const ok = (e: unknown) => e instanceof InputError && e.code === 'NOTE_INVALID';
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.string().map((s) => `${s}\n\n\u2014 ${s} AAAAAAAA\n`),
            fc.uint8Array().map((b) => Uint8Array.of(...Buffer.from(signed).subarray(0, 80), ...b)),
          ),
          (input) => {
            try {
              parseNote(input);
            } catch (e) {
              assert.ok(ok(e), String(e));
            }
          },
        ),
      );
    });
  });

  describe('when signing', () => {
    it('round-trips any valid text', async () => {
      const key = parseSignerKey(generateNoteKey('example.org/roundtrip').signerKey);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme' }).filter((l) => !hasControl(l))), async (lines) => {
          const text = lines.map((l) => `${l}\n`).join('') || '\n';
          const note = openNote(await signNote(text, [key.signer]), [key.verifier]);
          assert.equal(note.text, text);
        }),
        { numRuns: 50 },
      );
    });
    it('refuses text without a final newline or with control characters', async () => {
      const { signer } = parseSignerKey(PETER_SKEY);
      await assert.rejects(signNote('abc', [signer]), code('NOTE_INVALID'));
      await assert.rejects(signNote('a\u0000b\n', [signer]), code('NOTE_INVALID'));
      await assert.rejects(signNote('abc\n', []), code('NOTE_INVALID'));
    });
    it('formats signature lines as em dash, space, name, space, base64(key ID ‖ signature)', () => {
      assert.equal(formatSignatureLine({ name: 'a.example', keyId: 0x01020304, signature: Uint8Array.of(5) }), '\u2014 a.example AQIDBAU=\n');
    });
  });
});

describe('note-keys', () => {
  it('computes key IDs as SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]', () => {
    const v = parseVerifierKey(PETER_VKEY);
    const raw = Buffer.from(PETER_VKEY.split('+').slice(2).join('+'), 'base64').subarray(1);
    assert.equal(noteKeyId('PeterNeumann', 0x01, raw), 0xc74f20a3);
    assert.equal(v.keyId, 0xc74f20a3);
  });

  it('derives the published verifier key from the signer key', () => {
    assert.equal(parseSignerKey(PETER_SKEY).verifierKey, PETER_VKEY);
  });

  it('generates pairs that parse and work together', async () => {
    const { signerKey, verifierKey } = generateNoteKey('log.example/custody');
    assert.match(signerKey, /^PRIVATE\+KEY\+log\.example\/custody\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const pair = parseSignerKey(signerKey);
    assert.equal(pair.verifierKey, verifierKey);
    openNote(await signNote('hello\n', [pair.signer]), [parseVerifierKey(verifierKey)]);
  });

  it('rejects malformed keys as Go does', () => {
    for (const bad of [
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong hash
      'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // short hash
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==', // wrong key length
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a3+',
      'PeterNeumann',
    ]) {
      assert.throws(() => parseVerifierKey(bad), code('KEY_INVALID'), bad);
    }
    // Unknown algorithm, with adjusted key hash (x/mod note_test.go).
    assert.throws(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), code('KEY_UNSUPPORTED'));
    assert.throws(() => parseSignerKey(PETER_SKEY.replace('PRIVATE+KEY', 'PRIVATE+KEX')), code('KEY_INVALID'));
    assert.throws(() => parseSignerKey(PETER_SKEY.replace('c74f20a3', 'c74f20a4')), code('KEY_INVALID'));
    assert.throws(() => generateNoteKey('bad name'), code('KEY_INVALID'));
  });
});
