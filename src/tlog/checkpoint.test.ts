import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { verify } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InputError, VerificationError } from '../core/index.ts';
import type { Checkpoint } from './checkpoint.ts';
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from './checkpoint.ts';
import { cosignatureMessage, parseCosignature } from './cosignature.ts';
import { ed25519PublicKey } from './ed25519.ts';
import { merkleTreeHash } from './merkle-hash.ts';
import { parseNote, signNote } from './note.ts';
import { formatVerifierKey, parseCosignatureVerifierKey, parseSignerKey, parseVerifierKey } from './note-keys.ts';

// eslint-disable-next-line no-control-regex
const hasControl = (s: string) => /[\u0000-\u001f]/.test(s);

// Test-only keys (generated with generateNoteKey).
const LOG_SKEY = 'PRIVATE+KEY+example.com/custody-test-log+f9075dab+AaiQUqj3pV7lJyTjpPJ2lIWoOeAf/jVqKBHxRQcBeOqA';
const LOG_VKEY = 'example.com/custody-test-log+f9075dab+Ad1b15QPneWkKv7F2fC4yx/1+o0f1fAtBo5ukmgo36G8';
const W1_SKEY = 'PRIVATE+KEY+witness.example/w1+af936282+BL/8urv7ObjwOtvE6kUhZLFyW+fk3xt4ZCi2MEUsWUBS';
const W1_VKEY = 'witness.example/w1+af936282+BKVxmt+F7NALFhambyZDERAcvF8ym8Uj7UeR5iGgoMMK';
const W2_SKEY = 'PRIVATE+KEY+witness.example/w2+205d33d9+BDNKsJzQcFImjsLyg+w0R99ALesItmTnh/65Wr+7UeI3';
const W2_VKEY = 'witness.example/w2+205d33d9+BESdoJIhFbB0YV+ZV9FFMyV4JAEvY3pBWAMELJQZ4W+p';

const ORIGIN = 'example.com/custody-test-log';
const ROOT = merkleTreeHash([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
const CHECKPOINT: Checkpoint = { origin: ORIGIN, size: 3, rootHash: ROOT, extensions: [] };
const golden = new URL('./fixtures/golden/checkpoint-signed.txt', import.meta.url);
const code = (c: string) => (e: unknown) => (e instanceof InputError || e instanceof VerificationError) && e.code === c;

describe('checkpoint', () => {
  describe('formatCheckpoint', () => {
    it('writes origin, decimal size and base64 root, each line ending in a newline', () => {
      assert.equal(formatCheckpoint(CHECKPOINT), `${ORIGIN}\n3\n${Buffer.from(ROOT).toString('base64')}\n`);
      assert.equal(formatCheckpoint({ ...CHECKPOINT, extensions: ['ext one'] }).split('\n')[3], 'ext one');
    });
    it('refuses what a checkpoint cannot hold', () => {
      for (const bad of [
        { ...CHECKPOINT, origin: '' },
        { ...CHECKPOINT, origin: 'a\nb' },
        { ...CHECKPOINT, origin: 'a\tb' },
        { ...CHECKPOINT, size: -1 },
        { ...CHECKPOINT, size: 2 ** 53 },
        { ...CHECKPOINT, rootHash: ROOT.subarray(1) },
        { ...CHECKPOINT, extensions: [''] },
      ]) {
        assert.throws(() => formatCheckpoint(bad), code('CHECKPOINT_INVALID'));
      }
    });
    it('matches the golden signed checkpoint (UPDATE_GOLDEN=1 rewrites it)', async () => {
      const signed = await signCheckpoint(CHECKPOINT, [parseSignerKey(LOG_SKEY).signer]);
      if (process.env['UPDATE_GOLDEN'] === '1') {
        mkdirSync(new URL('.', golden), { recursive: true });
        writeFileSync(golden, signed);
      }
      assert.equal(signed, readFileSync(golden, 'utf8'));
    });
  });

  describe('parseCheckpoint', () => {
    it('reads back what formatCheckpoint writes', () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1 }).filter((s) => !hasControl(s) && s.isWellFormed()),
          fc.maxSafeNat(),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.array(fc.string({ minLength: 1 }).filter((s) => !hasControl(s) && s.isWellFormed()), { maxLength: 3 }),
          (origin, size, rootHash, extensions) => {
            const cp = parseCheckpoint(formatCheckpoint({ origin, size, rootHash, extensions }));
            assert.deepEqual({ ...cp, rootHash: [...cp.rootHash] }, { origin, size, rootHash: [...rootHash], extensions });
          },
        ),
      );
    });
    it('rejects anything but the strict form', () => {
      const root = Buffer.from(ROOT).toString('base64');
      for (const bad of [
        `${ORIGIN}\n3\n${root}`, // no final newline
        `${ORIGIN}\n3\n`, // two lines
        `${ORIGIN}\n03\n${root}\n`, // leading zero
        `${ORIGIN}\n+3\n${root}\n`,
        `${ORIGIN}\n 3\n${root}\n`,
        `${ORIGIN}\n3.0\n${root}\n`,
        `${ORIGIN}\n9007199254740992\n${root}\n`, // beyond 2^53 - 1
        `${ORIGIN}\n3\n${root.slice(0, -2)}\n`,
        `${ORIGIN}\n3\n${root.replace('=', '')}\n`, // unpadded
        `${ORIGIN}\n3\n${Buffer.from(ROOT.subarray(1)).toString('base64')}\n`, // 31 bytes
        `\n3\n${root}\n`, // empty origin
        `${ORIGIN}\n3\n${root}\n\n`, // empty extension line
      ]) {
        assert.throws(() => parseCheckpoint(bad), code('CHECKPOINT_INVALID'), JSON.stringify(bad));
      }
      assert.equal(parseCheckpoint(`${ORIGIN}\n0\n${root}\n`).size, 0);
    });
    it('fails only with CHECKPOINT_INVALID on arbitrary text (fuzz)', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z./]{1,9}\n[0-9]{1,20}\n[A-Za-z0-9+/=]{40,46}\n([a-z ]{0,5}\n)?$/)), (text) => {
          try {
            parseCheckpoint(text);
          } catch (e) {
            assert.ok(code('CHECKPOINT_INVALID')(e), String(e));
          }
        }),
      );
    });
  });

  describe('openCheckpoint', () => {
    const log = parseSignerKey(LOG_SKEY);
    const now = () => 1679315147;
    const w1 = parseSignerKey(W1_SKEY, { now });
    const w2 = parseSignerKey(W2_SKEY, { now });

    it('verifies the log signature, the origin, and returns the checkpoint', async () => {
      const opened = openCheckpoint(await signCheckpoint(CHECKPOINT, [log.signer]), { log: parseVerifierKey(LOG_VKEY) });
      assert.equal(opened.checkpoint.size, 3);
      assert.deepEqual([...opened.checkpoint.rootHash], [...ROOT]);
      assert.deepEqual(opened.cosignatures, []);
    });

    it('requires the log signature even when a witness signed', async () => {
      const onlyWitness = await signNote(formatCheckpoint(CHECKPOINT), [w1.signer]);
      assert.throws(
        () => openCheckpoint(onlyWitness, { log: parseVerifierKey(LOG_VKEY), witnesses: [parseVerifierKey(W1_VKEY)] }),
        code('SIGNATURE_MISSING'),
      );
    });

    it('rejects another origin, a forged signature and an unknown log key', async () => {
      const other = await signCheckpoint({ ...CHECKPOINT, origin: 'example.com/other' }, [log.signer]);
      assert.throws(() => openCheckpoint(other, { log: log.verifier }), code('ORIGIN_MISMATCH'));
      openCheckpoint(other, { log: log.verifier, origin: 'example.com/other' });
      const signed = await signCheckpoint(CHECKPOINT, [log.signer]);
      const forged = signed.replace('\n3\n', '\n4\n');
      assert.throws(() => openCheckpoint(forged, { log: log.verifier }), code('SIGNATURE_INVALID'));
      assert.throws(() => openCheckpoint(signed, { log: w1.verifier, origin: ORIGIN }), code('SIGNATURE_MISSING'));
    });

    it('counts tlog-cosignature/v1 witness cosignatures against a threshold', async () => {
      const signed = await signCheckpoint(CHECKPOINT, [log.signer]);
      const cosigned = await signNote(formatCheckpoint(CHECKPOINT), [w1.signer, w2.signer], parseNote(signed).signatures);
      const witnesses = [parseVerifierKey(W1_VKEY), parseVerifierKey(W2_VKEY)];
      const opened = openCheckpoint(cosigned, { log: log.verifier, witnesses, witnessThreshold: 2 });
      assert.deepEqual(opened.cosignatures.map((c) => [c.name, c.timestamp]), [['witness.example/w1', 1679315147n], ['witness.example/w2', 1679315147n]]);
      assert.throws(() => openCheckpoint(signed, { log: log.verifier, witnesses, witnessThreshold: 1 }), code('THRESHOLD_NOT_MET'));
      // A cosignature made for another checkpoint fails, and fails the whole note.
      const elsewhere = await signNote(formatCheckpoint({ ...CHECKPOINT, size: 4 }), [w2.signer]);
      const spliced = `${signed}${elsewhere.slice(elsewhere.lastIndexOf('\n\n') + 2)}`;
      assert.throws(() => openCheckpoint(spliced, { log: log.verifier, witnesses, witnessThreshold: 1 }), code('SIGNATURE_INVALID'));
      // A signature under a witness's name but another key ID is not that witness's: ignored.
      const renamed = cosigned.replace('— witness.example/w2', '— witness.example/w1');
      assert.throws(() => openCheckpoint(renamed, { log: log.verifier, witnesses, witnessThreshold: 2 }), code('THRESHOLD_NOT_MET'));
    });
  });
});

describe('cosignature', () => {
  it('signs cosignature/v1 + time line + checkpoint text, as tlog-cosignature specifies', async () => {
    const w1 = parseSignerKey(W1_SKEY, { now: () => 1679315147 });
    const text = formatCheckpoint(CHECKPOINT);
    const sig = await w1.signer.sign(Buffer.from(text));
    const parsed = parseCosignature(sig)!;
    assert.equal(parsed.timestamp, 1679315147n);
    const message = `cosignature/v1\ntime 1679315147\n${text}`;
    assert.equal(Buffer.from(cosignatureMessage(Buffer.from(text), 1679315147)).toString(), message);
    // Checked with node:crypto directly against the raw public key of the verifier key.
    const raw = Buffer.from(W1_VKEY.split('+').slice(2).join('+'), 'base64');
    assert.equal(raw[0], 0x04);
    assert.ok(verify(null, Buffer.from(message), ed25519PublicKey(raw.subarray(1)), parsed.signature));
  });

  it('refuses malformed cosignatures and timestamps above 2^63 - 1', () => {
    const v = parseVerifierKey(W1_VKEY);
    assert.equal(parseCosignature(new Uint8Array(71)), undefined);
    assert.equal(parseCosignature(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0, ...new Uint8Array(64))), undefined);
    assert.equal(v.verify(Buffer.from('x\n'), new Uint8Array(72)), false);
  });

  it('accepts a plain Ed25519 witness key as a cosignature key (as transparency-dev/formats)', async () => {
    const w1 = parseSignerKey(W1_SKEY, { now: () => 5 });
    const raw = Buffer.from(W1_VKEY.split('+').slice(2).join('+'), 'base64').subarray(1);
    const plain = formatVerifierKey('witness.example/w1', raw, 'ed25519');
    const v = parseCosignatureVerifierKey(plain);
    assert.equal(v.keyId, parseVerifierKey(W1_VKEY).keyId);
    assert.ok(v.verify(Buffer.from('a\n'), await w1.signer.sign(Buffer.from('a\n'))));
  });
});
