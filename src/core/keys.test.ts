// Tests for keys.ts: generation, PEM and securesystemslib forms, key ids (known answers recorded
// from securesystemslib 0.26 / in-toto-keygen 1.3.1), signing and verification per key type, and
// the error code of every way a key file can be bad.
import {
  constants,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonical-json.ts';
import { digestBytes } from './digest.ts';
import { InputError } from './errors.ts';
import {
  KEY_TYPES,
  computeKeyId,
  generateKeyPair,
  isKeyType,
  loadPrivateKeyPem,
  pemLabel,
  privateKeyFromSecuresystemslib,
  publicKeyFromPem,
  publicKeyFromSecuresystemslib,
  shortKeyId,
  verifySignature,
  type KeyType,
  type PrivateKey,
  type SslibKey,
} from './keys.ts';

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

const SCHEME: Record<KeyType, string> = {
  ed25519: 'ed25519',
  'ecdsa-p256': 'ecdsa-sha2-nistp256',
  'ecdsa-p384': 'ecdsa-sha2-nistp384',
  rsa: 'rsassa-pss-sha256',
};

const data = new TextEncoder().encode('custody signs statements about digests');

// Public keys written by in-toto-keygen 1.3.1 (-t ed25519, -t ecdsa, -t rsa -b 3072) with the key
// ids securesystemslib 0.26 reports for them (import_*_publickey_from_file).
const REFERENCE = {
  ed25519: {
    json: {
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyid_hash_algorithms: ['sha256', 'sha512'],
      keyval: { public: 'e454143c3704e0d49c48d3d1ecbae0318b1febd9ed20a1007299081941243d96' },
    },
    keyid: '1e5ad206417189d8d08beeac08ae2a2d8b41dc8814fef2f5544203cc129fa48a',
  },
  ecdsa: {
    json: {
      keytype: 'ecdsa',
      scheme: 'ecdsa-sha2-nistp256',
      keyid_hash_algorithms: ['sha256', 'sha512'],
      keyval: {
        public:
          '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx9AnbWsUCtivOxNsSlZwpHnRZL/m\nzLnlJECmv7arCa+3fLu6kB2u/TgIGAjCdVww8MqHfmK7HNDpDw2nOVvs6w==\n-----END PUBLIC KEY-----\n',
      },
    },
    keyid: 'ba03652acdeef2d7986b491faac5fcfba456a4f959ece78b02344fb9e6f49ba5',
  },
  rsa: {
    pem: `-----BEGIN PUBLIC KEY-----
MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA9WNbVPIhKAPiRYogyA2T
72r2rdKOyaakSndtGu/MzOCd8OhK4qO7GeZ6NPJiv5k6I4k/ZOzTukufd0d7GF5o
lBBdOV6k7HwTfNq54aiq61ZvhEkf8NQ1wd/hWuVH+x8gloLGA9o1BHUOT0VLw9Wz
dW+rXDwogCfjIFvkEwy9pLSUUfecAVPtlN7jqDLDMOiQCs9/34D99s1pqkPlUDXK
s1l0nVib1nYEJieWS/TecpEwrmeySR9Se/uM0jokfZavT1E+J9y90dpSssCrw1SL
YhZVJyQ+rpK6ef9xA1QvHye8W3RQvnpAIdmhAFJz8nVdKRlwyI6vaDPHRNZXOKzy
Seme059SXQT+VVRUTUJ5Fcf8CdZTnWHrdqVjvuaM2U/Cbeslgm/gK4+LKs39ni9X
ApAWg2Rt1l9/olTqumYfngBE75rctyNGXEW1sI/dzzUOOY1RQQb/KeGNJW1V82zE
TZq49uYJFqHZfOlp9sg6KqkacDBS1FFY8U13OcFkKDmTAgMBAAE=
-----END PUBLIC KEY-----
`,
    keyid: 'ce013a9f2f131133befb9f04329286a5b9701427c5d130511d0f4c11dbacff79',
  },
};

// RFC 8032 §7.1 TEST 1: Ed25519 secret key, public key and the signature of the empty message.
const RFC8032 = {
  seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};

/** Damages the base64 body of a PEM block at its start, where the ASN.1 structure is. */
function garbleHeader(pem: string): string {
  return pem.replace(/(-----\n)(.{8})/, (_m, head: string) => `${head}AAAAAAAA`);
}

describe('keys', () => {
  const keys = {} as Record<KeyType, PrivateKey>;
  before(() => {
    for (const type of KEY_TYPES) keys[type] = generateKeyPair(type);
  });

  describe('when generating keys', () => {
    it('makes every key type with its securesystemslib scheme', () => {
      for (const type of KEY_TYPES) {
        const key = keys[type];
        assert.equal(key.type, type);
        assert.equal(key.publicKey.type, type);
        assert.equal(key.publicKey.scheme, SCHEME[type]);
        assert.match(key.publicKey.keyid, /^[0-9a-f]{64}$/);
      }
      assert.equal(keys['ecdsa-p256'].keyObject.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.equal(keys['ecdsa-p384'].keyObject.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    });

    it('makes RSA keys of 3072 bits by default and refuses shorter ones', () => {
      assert.equal(keys.rsa.keyObject.asymmetricKeyDetails?.modulusLength, 3072);
      expectCode(() => generateKeyPair('rsa', { rsaBits: 2048 }), 'KEY_UNSUPPORTED');
    });

    it('makes a different key each time', () => {
      assert.notEqual(generateKeyPair('ed25519').publicKey.keyid, generateKeyPair('ed25519').publicKey.keyid);
    });

    it('names exactly the four supported key types', () => {
      assert.deepEqual(['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa', 'ecdsa', 'rsa-pss', 'p256'].map(isKeyType), [
        true, true, true, true, false, false, false,
      ]);
    });
  });

  describe('when computing key ids', () => {
    it('gives the ids securesystemslib gives for keys in-toto-keygen wrote', () => {
      assert.equal(publicKeyFromSecuresystemslib(REFERENCE.ed25519.json).keyid, REFERENCE.ed25519.keyid);
      assert.equal(publicKeyFromSecuresystemslib(REFERENCE.ecdsa.json).keyid, REFERENCE.ecdsa.keyid);
      assert.equal(publicKeyFromPem(REFERENCE.rsa.pem).keyid, REFERENCE.rsa.keyid);
    });

    it('hashes the canonical JSON of keytype, scheme, keyid_hash_algorithms and keyval.public', () => {
      const { json, keyid } = REFERENCE.ed25519;
      assert.equal(computeKeyId(json.keytype, json.scheme, json.keyval.public), keyid);
      assert.equal(digestBytes(canonicalJson(json)), keyid);
      for (const type of KEY_TYPES) {
        const pub = keys[type].publicKey;
        assert.equal(digestBytes(canonicalJson(pub.toSecuresystemslib())), pub.keyid, type);
      }
    });

    it('writes ecdsa public values with a trailing newline and RSA ones without, as securesystemslib does', () => {
      assert.ok(keys['ecdsa-p256'].publicKey.toSecuresystemslib().keyval.public.endsWith('-----\n'));
      assert.ok(keys.rsa.publicKey.toSecuresystemslib().keyval.public.endsWith('-----END PUBLIC KEY-----'));
      assert.match(keys.ed25519.publicKey.toSecuresystemslib().keyval.public, /^[0-9a-f]{64}$/);
    });

    it('shortens ids to the 8 hex characters in-toto puts in link file names', () => {
      assert.equal(shortKeyId(REFERENCE.rsa.keyid), 'ce013a9f');
    });
  });

  describe('when writing and reading PEM', () => {
    it('round-trips private keys through PKCS#8 and public keys through SPKI', () => {
      for (const type of KEY_TYPES) {
        const key = keys[type];
        const pkcs8 = key.toPkcs8Pem();
        assert.equal(pemLabel(pkcs8), 'PRIVATE KEY');
        const loaded = loadPrivateKeyPem(pkcs8);
        assert.equal(loaded.type, type);
        assert.equal(loaded.publicKey.keyid, key.publicKey.keyid);
        assert.equal(pemLabel(key.publicKey.pem), 'PUBLIC KEY');
        assert.ok(key.publicKey.pem.endsWith('-----END PUBLIC KEY-----\n'));
        assert.equal(publicKeyFromPem(key.publicKey.pem).keyid, key.publicKey.keyid);
        // A private PEM given where a public key is expected yields its public half.
        assert.equal(publicKeyFromPem(pkcs8).keyid, key.publicKey.keyid);
      }
    });

    it('reads PKCS#1 RSA and SEC1 EC private keys (what in-toto-keygen and securesystemslib write)', () => {
      const rsa = keys.rsa.keyObject.export({ type: 'pkcs1', format: 'pem' }).toString();
      assert.equal(loadPrivateKeyPem(rsa).publicKey.keyid, keys.rsa.publicKey.keyid);
      const ec = keys['ecdsa-p256'].keyObject.export({ type: 'sec1', format: 'pem' }).toString();
      assert.equal(loadPrivateKeyPem(ec).publicKey.keyid, keys['ecdsa-p256'].publicKey.keyid);
      const rsaPublic = keys.rsa.publicKey.keyObject.export({ type: 'pkcs1', format: 'pem' }).toString();
      assert.equal(publicKeyFromPem(rsaPublic).keyid, keys.rsa.publicKey.keyid);
    });

    it('reads an EC key written by openssl ecparam -genkey (an EC PARAMETERS block first)', () => {
      // Regression: only the first PEM block was considered, so this was PEM_INVALID.
      const params = { 'ecdsa-p256': 'BggqhkjOPQMBBw==', 'ecdsa-p384': 'BgUrgQQAIg==' } as const;
      for (const type of ['ecdsa-p256', 'ecdsa-p384'] as const) {
        const sec1 = keys[type].keyObject.export({ type: 'sec1', format: 'pem' }).toString();
        const pem = `-----BEGIN EC PARAMETERS-----\n${params[type]}\n-----END EC PARAMETERS-----\n${sec1}`;
        assert.equal(loadPrivateKeyPem(pem).publicKey.keyid, keys[type].publicKey.keyid);
        assert.equal(publicKeyFromPem(pem).keyid, keys[type].publicKey.keyid);
        expectCode(() => loadPrivateKeyPem(pem.slice(0, pem.indexOf('-----END EC PRIVATE KEY'))), 'PEM_INVALID');
      }
    });

    it('encrypts PKCS#8 with a passphrase and reads it back with the same passphrase', () => {
      for (const type of KEY_TYPES) {
        const encrypted = keys[type].toPkcs8Pem('correct horse');
        assert.equal(pemLabel(encrypted), 'ENCRYPTED PRIVATE KEY');
        assert.equal(loadPrivateKeyPem(encrypted, 'correct horse').publicKey.keyid, keys[type].publicKey.keyid);
      }
    });

    it('reports a wrong passphrase as KEY_PASSPHRASE_WRONG', () => {
      const encrypted = keys.ed25519.toPkcs8Pem('correct horse');
      expectCode(() => loadPrivateKeyPem(encrypted, 'battery staple'), 'KEY_PASSPHRASE_WRONG');
    });

    it('reports a missing or empty passphrase as KEY_PASSPHRASE_REQUIRED', () => {
      const encrypted = keys['ecdsa-p256'].toPkcs8Pem('correct horse');
      expectCode(() => loadPrivateKeyPem(encrypted), 'KEY_PASSPHRASE_REQUIRED');
      expectCode(() => loadPrivateKeyPem(encrypted, ''), 'KEY_PASSPHRASE_REQUIRED');
      expectCode(() => publicKeyFromPem(encrypted), 'KEY_PASSPHRASE_REQUIRED');
    });

    it('treats legacy OpenSSL-encrypted PEM (Proc-Type: 4,ENCRYPTED, as in-toto-keygen -p writes RSA keys) like encrypted PKCS#8', () => {
      // Regression: a missing passphrase used to be reported as PEM_INVALID ("damaged").
      const rsa = keys.rsa.keyObject
        .export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
        .toString();
      const ec = keys['ecdsa-p256'].keyObject
        .export({ type: 'sec1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' })
        .toString();
      for (const pem of [rsa, ec]) {
        assert.match(pem, /^Proc-Type: 4,ENCRYPTED$/m);
        expectCode(() => loadPrivateKeyPem(pem), 'KEY_PASSPHRASE_REQUIRED');
        expectCode(() => loadPrivateKeyPem(pem, ''), 'KEY_PASSPHRASE_REQUIRED');
        expectCode(() => publicKeyFromPem(pem), 'KEY_PASSPHRASE_REQUIRED');
        expectCode(() => loadPrivateKeyPem(pem, 'wrong'), 'KEY_PASSPHRASE_WRONG');
        assert.match(loadPrivateKeyPem(pem, 'pw').publicKey.keyid, /^[0-9a-f]{64}$/);
      }
    });

    it('reports truncated PEM as PEM_INVALID', () => {
      for (const pem of [keys.ed25519.toPkcs8Pem(), keys.rsa.toPkcs8Pem(), keys['ecdsa-p384'].publicKey.pem]) {
        const lines = pem.trimEnd().split('\n');
        const body = lines.slice(1, -1).join('');
        const variants = [
          pem.slice(0, pem.length / 2), // cut in the middle: no END line
          pem.slice(0, pem.indexOf('-----END')), // END line missing
          [lines[0], body.slice(0, body.length / 2), lines.at(-1), ''].join('\n'), // body cut short
          [lines[0], lines.at(-1), ''].join('\n'), // empty body
        ];
        const load = pem.includes('PRIVATE') ? (t: string) => loadPrivateKeyPem(t) : (t: string) => publicKeyFromPem(t);
        for (const variant of variants) expectCode(() => load(variant), 'PEM_INVALID');
      }
    });

    it('reports garbled PEM as PEM_INVALID', () => {
      const priv = keys['ecdsa-p256'].toPkcs8Pem();
      const pub = keys['ecdsa-p256'].publicKey.pem;
      expectCode(() => loadPrivateKeyPem(garbleHeader(priv)), 'PEM_INVALID');
      expectCode(() => publicKeyFromPem(garbleHeader(pub)), 'PEM_INVALID');
      expectCode(() => loadPrivateKeyPem(priv.replace(/\n(.{6})/, '\n!!!!!!')), 'PEM_INVALID');
      expectCode(() => publicKeyFromPem(pub.replace('BEGIN PUBLIC KEY', 'BEGIN PUBLIC KEX')), 'PEM_INVALID');
    });

    it('reports text that is not a PEM key, or the wrong kind of PEM block, as PEM_INVALID', () => {
      for (const text of ['', 'hello', '{"keytype":"ed25519"}', '-----BEGIN PRIVATE KEY-----\n']) {
        expectCode(() => loadPrivateKeyPem(text), 'PEM_INVALID');
        expectCode(() => publicKeyFromPem(text), 'PEM_INVALID');
      }
      expectCode(() => loadPrivateKeyPem(keys.ed25519.publicKey.pem), 'PEM_INVALID');
      const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      expectCode(() => publicKeyFromPem(cert), 'PEM_INVALID');
    });

    it('refuses curves other than P-256 and P-384, and other algorithms, with KEY_UNSUPPORTED', () => {
      for (const namedCurve of ['P-521', 'secp256k1']) {
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
        expectCode(() => loadPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), 'KEY_UNSUPPORTED');
        expectCode(() => publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()), 'KEY_UNSUPPORTED');
      }
      for (const pair of [generateKeyPairSync('ed448'), generateKeyPairSync('x25519')]) {
        expectCode(() => loadPrivateKeyPem(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), 'KEY_UNSUPPORTED');
        expectCode(() => publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()), 'KEY_UNSUPPORTED');
      }
    });

    it('refuses RSA keys shorter than 2048 bits with KEY_UNSUPPORTED', () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      expectCode(() => loadPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), 'KEY_UNSUPPORTED');
      expectCode(() => publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()), 'KEY_UNSUPPORTED');
    });
  });

  describe('when reading and writing securesystemslib JSON', () => {
    it('round-trips public and private keys of every type with the same key id', () => {
      for (const type of KEY_TYPES) {
        const key = keys[type];
        const pub = key.publicKey.toSecuresystemslib();
        assert.equal(pub.keyid, undefined);
        assert.deepEqual(pub.keyid_hash_algorithms, ['sha256', 'sha512']);
        assert.equal(publicKeyFromSecuresystemslib(pub).keyid, key.publicKey.keyid);
        const priv = key.toSecuresystemslib();
        assert.equal(priv.keyid, key.publicKey.keyid);
        assert.equal(typeof priv.keyval.private, 'string');
        const loaded = privateKeyFromSecuresystemslib(JSON.parse(JSON.stringify(priv)));
        assert.equal(loaded.publicKey.keyid, key.publicKey.keyid);
        // The private part is ignored when only the public key is asked for.
        assert.equal(publicKeyFromSecuresystemslib(priv).keyid, key.publicKey.keyid);
      }
    });

    it('reads an ed25519 private key from its seed and signs as RFC 8032 says', async () => {
      const json = {
        keytype: 'ed25519',
        scheme: 'ed25519',
        keyid_hash_algorithms: ['sha256', 'sha512'],
        keyval: { public: RFC8032.public, private: RFC8032.seed },
      };
      const key = privateKeyFromSecuresystemslib(json);
      assert.equal(key.publicKey.keyid, computeKeyId('ed25519', 'ed25519', RFC8032.public));
      const signature = await key.signer().sign(new Uint8Array());
      assert.equal(Buffer.from(signature).toString('hex'), RFC8032.signature);
      assert.equal(key.toSecuresystemslib().keyval.private, RFC8032.seed);
    });

    it('keeps the keytype, scheme and hash algorithms it was given for the key id', () => {
      const legacy = { ...REFERENCE.ecdsa.json, keytype: 'ecdsa-sha2-nistp256' };
      const key = publicKeyFromSecuresystemslib(legacy);
      assert.equal(key.keyid, computeKeyId('ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256', legacy.keyval.public));
      const sha256Only = { ...REFERENCE.ed25519.json, keyid_hash_algorithms: ['sha256'] };
      assert.equal(
        publicKeyFromSecuresystemslib(sha256Only).keyid,
        computeKeyId('ed25519', 'ed25519', REFERENCE.ed25519.json.keyval.public, ['sha256']),
      );
      assert.deepEqual(publicKeyFromSecuresystemslib(sha256Only).toSecuresystemslib(), sha256Only);
    });

    it('reports a declared keyid that does not match the key as KEY_INVALID', () => {
      const json: SslibKey = { ...REFERENCE.ed25519.json, keyid: REFERENCE.ecdsa.keyid };
      expectCode(() => publicKeyFromSecuresystemslib(json), 'KEY_INVALID');
      const priv = { ...keys.ed25519.toSecuresystemslib(), keyid: 'ab'.repeat(32) };
      expectCode(() => privateKeyFromSecuresystemslib(priv), 'KEY_INVALID');
    });

    it('reports a scheme that does not fit the key as KEY_INVALID, an unknown scheme or keytype as KEY_UNSUPPORTED', () => {
      expectCode(() => publicKeyFromSecuresystemslib({ ...REFERENCE.ecdsa.json, scheme: 'ecdsa-sha2-nistp384' }), 'KEY_INVALID');
      expectCode(() => publicKeyFromSecuresystemslib({ ...keys.rsa.publicKey.toSecuresystemslib(), scheme: 'ed25519' }), 'KEY_INVALID');
      expectCode(() => publicKeyFromSecuresystemslib({ ...keys.rsa.publicKey.toSecuresystemslib(), scheme: 'rsassa-pkcs1v15-sha256' }), 'KEY_UNSUPPORTED');
      expectCode(() => publicKeyFromSecuresystemslib({ ...REFERENCE.ed25519.json, keytype: 'sphincs' }), 'KEY_UNSUPPORTED');
      // Regression: names of Object.prototype members used to crash the scheme lookup with a TypeError.
      for (const scheme of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
        expectCode(() => publicKeyFromSecuresystemslib({ ...REFERENCE.ed25519.json, scheme }), 'KEY_UNSUPPORTED');
      }
    });

    it('reports missing or malformed fields as KEY_INVALID', () => {
      const ed = REFERENCE.ed25519.json;
      const bad: unknown[] = [
        null,
        'ed25519',
        [],
        {},
        { ...ed, keytype: 1 },
        { ...ed, scheme: null },
        { ...ed, keyval: undefined },
        { ...ed, keyval: { public: 42 } },
        { ...ed, keyval: { public: ed.keyval.public.toUpperCase() } },
        { ...ed, keyval: { public: ed.keyval.public.slice(2) } },
        { ...ed, keyid_hash_algorithms: 'sha256' },
        { ...ed, keyid_hash_algorithms: [1] },
        { ...REFERENCE.ecdsa.json, keyval: { public: 'not a pem' } },
        { ...REFERENCE.ecdsa.json, keyval: { public: garbleHeader(REFERENCE.ecdsa.json.keyval.public) } },
      ];
      for (const json of bad) expectCode(() => publicKeyFromSecuresystemslib(json), 'KEY_INVALID');
    });

    it('reports a private key without a private part, or with a foreign one, as KEY_INVALID', () => {
      expectCode(() => privateKeyFromSecuresystemslib(REFERENCE.ed25519.json), 'KEY_INVALID');
      expectCode(() => privateKeyFromSecuresystemslib({ ...REFERENCE.ed25519.json, keyval: { ...REFERENCE.ed25519.json.keyval, private: '' } }), 'KEY_INVALID');
      for (const type of KEY_TYPES) {
        const other = anotherKey(type);
        const mixed = { ...keys[type].publicKey.toSecuresystemslib(), keyval: { public: keys[type].publicKey.toSecuresystemslib().keyval.public, private: other.toSecuresystemslib().keyval.private! } };
        expectCode(() => privateKeyFromSecuresystemslib(mixed), 'KEY_INVALID');
      }
      const seed = { ...REFERENCE.ed25519.json, keyval: { ...REFERENCE.ed25519.json.keyval, private: 'zz'.repeat(32) } };
      expectCode(() => privateKeyFromSecuresystemslib(seed), 'KEY_INVALID');
    });
  });

  describe('when signing and verifying', () => {
    it('verifies its own signatures for every key type, and the signer carries the key id', async () => {
      for (const type of KEY_TYPES) {
        const signer = keys[type].signer();
        assert.equal(signer.keyid, keys[type].publicKey.keyid);
        assert.equal(signer.publicKey, keys[type].publicKey);
        const signature = await signer.sign(data);
        assert.equal(verifySignature(keys[type].publicKey, data, signature), true, type);
      }
    });

    it('rejects tampered data, a tampered signature, a truncated or empty one, and another key', async () => {
      for (const type of KEY_TYPES) {
        const pub = keys[type].publicKey;
        const signature = await keys[type].signer().sign(data);
        const tamperedData = Uint8Array.from(data);
        tamperedData[3]! ^= 1;
        const tamperedSignature = Uint8Array.from(signature);
        tamperedSignature[tamperedSignature.length - 5]! ^= 0x40;
        assert.equal(verifySignature(pub, tamperedData, signature), false, `${type}: tampered data`);
        assert.equal(verifySignature(pub, data, tamperedSignature), false, `${type}: tampered signature`);
        assert.equal(verifySignature(pub, data, signature.subarray(0, signature.length - 1)), false, `${type}: truncated`);
        assert.equal(verifySignature(pub, data, new Uint8Array()), false, `${type}: empty`);
        const other = anotherKey(type);
        assert.equal(verifySignature(other.publicKey, data, signature), false, `${type}: other key`);
      }
      // Nor does a signature verify under a key of another type.
      const edSignature = await keys.ed25519.signer().sign(data);
      assert.equal(verifySignature(keys['ecdsa-p256'].publicKey, data, edSignature), false);
    });

    it('signs with the scheme securesystemslib uses: Ed25519, ECDSA DER over SHA-256/384, RSA-PSS SHA-256 salt 32', async () => {
      const ed = await keys.ed25519.signer().sign(data);
      assert.equal(ed.length, 64);
      assert.ok(cryptoVerify(null, data, keys.ed25519.publicKey.keyObject, ed));
      const p256 = await keys['ecdsa-p256'].signer().sign(data);
      assert.equal(p256[0], 0x30, 'DER SEQUENCE');
      assert.ok(cryptoVerify('sha256', data, keys['ecdsa-p256'].publicKey.keyObject, p256));
      const p384 = await keys['ecdsa-p384'].signer().sign(data);
      assert.ok(cryptoVerify('sha384', data, keys['ecdsa-p384'].publicKey.keyObject, p384));
      assert.ok(!cryptoVerify('sha256', data, keys['ecdsa-p384'].publicKey.keyObject, p384));
      const rsa = await keys.rsa.signer().sign(data);
      assert.equal(rsa.length, 384);
      const pss = { key: keys.rsa.publicKey.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING };
      assert.ok(cryptoVerify('sha256', data, { ...pss, saltLength: 32 }, rsa));
      assert.ok(!cryptoVerify('sha256', data, { ...pss, saltLength: 64 }, rsa));
    });

    it('verifies RSA-PSS signatures of any salt length, as securesystemslib does', () => {
      const signature = cryptoSign('sha256', data, { key: keys.rsa.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 222 });
      assert.equal(verifySignature(keys.rsa.publicKey, data, signature), true);
      const pkcs1v15 = cryptoSign('sha256', data, keys.rsa.keyObject);
      assert.equal(verifySignature(keys.rsa.publicKey, data, pkcs1v15), false);
    });

    it('produces and accepts IEEE P1363 (r‖s) ECDSA only when asked to', async () => {
      for (const [type, size] of [['ecdsa-p256', 64], ['ecdsa-p384', 96]] as const) {
        const raw = await keys[type].signer({ ecdsaEncoding: 'ieee-p1363' }).sign(data);
        assert.equal(raw.length, size);
        assert.equal(verifySignature(keys[type].publicKey, data, raw), false, 'DER is the default');
        assert.equal(verifySignature(keys[type].publicKey, data, raw, { ecdsaEncoding: 'ieee-p1363' }), true);
        const der = await keys[type].signer().sign(data);
        assert.equal(verifySignature(keys[type].publicKey, data, der, { ecdsaEncoding: 'ieee-p1363' }), false);
      }
    });

    it('verifies with a key read from securesystemslib JSON or PEM as with the original', async () => {
      for (const type of KEY_TYPES) {
        const signature = await keys[type].signer().sign(data);
        assert.ok(verifySignature(publicKeyFromSecuresystemslib(keys[type].publicKey.toSecuresystemslib()), data, signature));
        assert.ok(verifySignature(publicKeyFromPem(keys[type].publicKey.pem), data, signature));
        const again = await privateKeyFromSecuresystemslib(keys[type].toSecuresystemslib()).signer().sign(data);
        assert.ok(verifySignature(keys[type].publicKey, data, again));
      }
    });

  });
});

/** Another key of the same type (3072-bit RSA generation is slow: RSA gets a 2048-bit key). */
function anotherKey(type: KeyType): PrivateKey {
  if (type !== 'rsa') return generateKeyPair(type);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return loadPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}
