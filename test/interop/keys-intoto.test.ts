// Interop with the in-toto reference implementation (Debian in-toto 1.3.1 on securesystemslib 0.26):
// key ids agree both ways, and signatures made on either side verify on the other.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  InputError,
  generateKeyPair,
  loadPrivateKeyPem,
  parseJson,
  privateKeyFromSecuresystemslib,
  publicKeyFromPem,
  publicKeyFromSecuresystemslib,
  verifySignature,
  type PrivateKey,
  type PublicKey,
} from '../../src/core/index.ts';
import { haveComponents } from '../support/components.ts';

// The system Python has securesystemslib (python3-securesystemslib); the python3 first on PATH may not.
const PYTHON = '/usr/bin/python3';

/**
 * Imports each key file with securesystemslib.interface, reports the key ids, signs `data` with the
 * private keys (keys.create_signature) and verifies the given custody signatures (keys.verify_signature).
 */
const SSLIB = `
import json, sys
from securesystemslib import interface as I, keys as K
req = json.load(sys.stdin)
data = bytes.fromhex(req['data'])
tampered = bytes.fromhex(req['tampered'])
pub_import = {'ed25519': I.import_ed25519_publickey_from_file, 'ecdsa': I.import_ecdsa_publickey_from_file, 'rsa': I.import_rsa_publickey_from_file}
priv_import = {'ed25519': I.import_ed25519_privatekey_from_file, 'ecdsa': I.import_ecdsa_privatekey_from_file, 'rsa': I.import_rsa_privatekey_from_file}
out = {}
for k in req['keys']:
    r = {}
    pub = pub_import[k['kind']](k['pub'])
    r['keyid'] = pub['keyid']
    if k.get('priv'):
        priv = priv_import[k['kind']](k['priv'], password=k.get('password'))
        r['privateKeyid'] = priv['keyid']
        if k.get('sign'):
            r['sig'] = K.create_signature(priv, data)['sig']
    if k.get('custodySig'):
        sig = {'keyid': pub['keyid'], 'sig': k['custodySig']}
        r['verified'] = K.verify_signature(pub, sig, data)
        r['verifiedTampered'] = K.verify_signature(pub, sig, tampered)
    out[k['name']] = r
sys.stdout.write(json.dumps(out))
`;

interface SslibRequest {
  name: string;
  kind: 'ed25519' | 'ecdsa' | 'rsa';
  pub: string;
  priv?: string;
  password?: string;
  sign?: boolean;
  custodySig?: string;
}
interface SslibResult {
  keyid: string;
  privateKeyid?: string;
  sig?: string;
  verified?: boolean;
  verifiedTampered?: boolean;
}

const data = Buffer.from('in-toto link metadata, canonicalized', 'utf8');
const tampered = Buffer.from('in-toto link metadata, canonicalizeD', 'utf8');

function sslib(keys: SslibRequest[]): Record<string, SslibResult> {
  const input = JSON.stringify({ data: data.toString('hex'), tampered: tampered.toString('hex'), keys });
  return JSON.parse(execFileSync(PYTHON, ['-c', SSLIB], { input, encoding: 'utf8' })) as Record<string, SslibResult>;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('in-toto key interop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-intoto-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = (name: string): string => join(dir, name);

  describe('when importing keys made by in-toto-keygen', () => {
    let made: { results: Record<string, SslibResult>; keys: Record<string, { pub: PublicKey; priv: PrivateKey }> } | undefined;
    /** in-toto-keygen -t ed25519|ecdsa|rsa, then securesystemslib's view of the files, once. */
    function keygen(): NonNullable<typeof made> {
      if (made !== undefined) return made;
      for (const type of ['ed25519', 'ecdsa', 'rsa']) execFileSync('in-toto-keygen', ['-t', type, path(`keygen-${type}`)], { stdio: 'ignore' });
      const results = sslib(
        (['ed25519', 'ecdsa', 'rsa'] as const).map((kind) => ({ name: kind, kind, pub: path(`keygen-${kind}.pub`), priv: path(`keygen-${kind}`), sign: true })),
      );
      const read = (name: string): string => readFileSync(path(name), 'utf8');
      const keys = {
        ed25519: {
          pub: publicKeyFromSecuresystemslib(parseJson(read('keygen-ed25519.pub'))),
          priv: privateKeyFromSecuresystemslib(parseJson(read('keygen-ed25519'))),
        },
        ecdsa: {
          pub: publicKeyFromSecuresystemslib(parseJson(read('keygen-ecdsa.pub'))),
          priv: privateKeyFromSecuresystemslib(parseJson(read('keygen-ecdsa'))),
        },
        rsa: { pub: publicKeyFromPem(read('keygen-rsa.pub')), priv: loadPrivateKeyPem(read('keygen-rsa')) },
      };
      made = { results, keys };
      return made;
    }

    it('gives the key ids securesystemslib gives, for ed25519, ecdsa and rsa', (t) => {
      if (!haveComponents(t, 'in-toto-keygen', PYTHON)) return;
      const { results, keys } = keygen();
      assert.deepEqual(
        Object.fromEntries(Object.entries(keys).map(([kind, k]) => [kind, [k.pub.keyid, k.priv.publicKey.keyid]])),
        Object.fromEntries(Object.entries(results).map(([kind, r]) => [kind, [r.keyid, r.privateKeyid]])),
      );
      assert.equal(keys['ed25519']!.pub.type, 'ed25519');
      assert.equal(keys['ecdsa']!.pub.type, 'ecdsa-p256');
      assert.equal(keys['rsa']!.pub.type, 'rsa');
    });

    it('verifies what securesystemslib signs with them, and not over tampered data', (t) => {
      if (!haveComponents(t, 'in-toto-keygen', PYTHON)) return;
      const { results, keys } = keygen();
      for (const [kind, k] of Object.entries(keys)) {
        const sig = Buffer.from(results[kind]!.sig!, 'hex');
        assert.equal(verifySignature(k.pub, data, sig), true, kind);
        assert.equal(verifySignature(k.pub, tampered, sig), false, kind);
      }
    });

    it('signs with them so that securesystemslib verifies, and rejects tampered data', async (t) => {
      if (!haveComponents(t, 'in-toto-keygen', PYTHON)) return;
      const { keys } = keygen();
      const requests: SslibRequest[] = [];
      for (const [kind, k] of Object.entries(keys)) {
        const custodySig = hex(await k.priv.signer().sign(data));
        requests.push({ name: kind, kind: kind as SslibRequest['kind'], pub: path(`keygen-${kind}.pub`), custodySig });
      }
      const results = sslib(requests);
      for (const kind of Object.keys(keys)) {
        assert.equal(results[kind]!.verified, true, kind);
        assert.equal(results[kind]!.verifiedTampered, false, kind);
      }
    });

    it('reads a passphrase-protected RSA key as securesystemslib writes it for in-toto-keygen -p', (t) => {
      if (!haveComponents(t, PYTHON)) return;
      const file = path('sslib-rsa-encrypted');
      execFileSync(PYTHON, ['-c', 'import sys\nfrom securesystemslib.interface import generate_and_write_rsa_keypair as g\ng(password="s3cret", filepath=sys.argv[1], bits=3072)', file]);
      const pem = readFileSync(file, 'utf8');
      const code = (fn: () => unknown): string => {
        try {
          fn();
          return 'ok';
        } catch (e) {
          return e instanceof InputError ? e.code : String(e);
        }
      };
      assert.equal(code(() => loadPrivateKeyPem(pem)), 'KEY_PASSPHRASE_REQUIRED');
      assert.equal(code(() => loadPrivateKeyPem(pem, 'wrong')), 'KEY_PASSPHRASE_WRONG');
      const key = loadPrivateKeyPem(pem, 's3cret');
      const results = sslib([{ name: 'rsa', kind: 'rsa', pub: `${file}.pub`, priv: file, password: 's3cret' }]);
      assert.equal(key.publicKey.keyid, results['rsa']!.keyid);
      assert.equal(key.publicKey.keyid, results['rsa']!.privateKeyid);
    });
  });

  describe('when exporting keys made by custody', () => {
    const keys = {
      ed25519: generateKeyPair('ed25519'),
      p256: generateKeyPair('ecdsa-p256'),
      p384: generateKeyPair('ecdsa-p384'),
      rsa: generateKeyPair('rsa'),
    };
    const write = (name: string, text: string): string => {
      writeFileSync(path(name), text);
      return path(name);
    };
    const json = (value: unknown): string => JSON.stringify(value);

    it('loads there with the same key id: securesystemslib JSON for ed25519 and ecdsa, PEM for rsa', (t) => {
      if (!haveComponents(t, PYTHON)) return;
      const rsaPkcs1 = keys.rsa.keyObject.export({ type: 'pkcs1', format: 'pem' }).toString();
      const requests: SslibRequest[] = [
        { name: 'ed25519', kind: 'ed25519', pub: write('ed.pub', json(keys.ed25519.publicKey.toSecuresystemslib())), priv: write('ed', json(keys.ed25519.toSecuresystemslib())) },
        { name: 'p256', kind: 'ecdsa', pub: write('p256.pub', json(keys.p256.publicKey.toSecuresystemslib())), priv: write('p256', json(keys.p256.toSecuresystemslib())) },
        { name: 'p384', kind: 'ecdsa', pub: write('p384.pub', json(keys.p384.publicKey.toSecuresystemslib())), priv: write('p384', json(keys.p384.toSecuresystemslib())) },
        { name: 'rsa-pkcs8', kind: 'rsa', pub: write('rsa.pub', keys.rsa.publicKey.pem), priv: write('rsa-pkcs8', keys.rsa.toPkcs8Pem()) },
        { name: 'rsa-pkcs8-encrypted', kind: 'rsa', pub: path('rsa.pub'), priv: write('rsa-enc', keys.rsa.toPkcs8Pem('pw')), password: 'pw' },
        { name: 'rsa-pkcs1', kind: 'rsa', pub: path('rsa.pub'), priv: write('rsa-pkcs1', rsaPkcs1) },
      ];
      const results = sslib(requests);
      const expected = { ed25519: keys.ed25519, p256: keys.p256, p384: keys.p384, 'rsa-pkcs8': keys.rsa, 'rsa-pkcs8-encrypted': keys.rsa, 'rsa-pkcs1': keys.rsa };
      for (const [name, key] of Object.entries(expected)) {
        assert.equal(results[name]!.keyid, key.publicKey.keyid, `${name} public`);
        assert.equal(results[name]!.privateKeyid, key.publicKey.keyid, `${name} private`);
      }
    });

    it('signs so that securesystemslib verifies, and verifies what securesystemslib signs (ed25519, ecdsa P-256, rsa)', async (t) => {
      if (!haveComponents(t, PYTHON)) return;
      // securesystemslib 0.26 has no signing or verification for ecdsa-sha2-nistp384: ids only, above.
      const signing = { ed25519: keys.ed25519, p256: keys.p256, rsa: keys.rsa };
      const kinds = { ed25519: 'ed25519', p256: 'ecdsa', rsa: 'rsa' } as const;
      const requests: SslibRequest[] = [];
      for (const [name, key] of Object.entries(signing)) {
        const pub = name === 'rsa' ? write('rsa.pub', key.publicKey.pem) : write(`${name}.pub`, json(key.publicKey.toSecuresystemslib()));
        const priv = name === 'rsa' ? write('rsa-pkcs8', key.toPkcs8Pem()) : write(name, json(key.toSecuresystemslib()));
        requests.push({ name, kind: kinds[name as keyof typeof kinds], pub, priv, sign: true, custodySig: hex(await key.signer().sign(data)) });
      }
      const results = sslib(requests);
      for (const [name, key] of Object.entries(signing)) {
        const r = results[name]!;
        assert.equal(r.verified, true, `${name}: securesystemslib verifies custody's signature`);
        assert.equal(r.verifiedTampered, false, `${name}: securesystemslib rejects it over tampered data`);
        const theirs = Buffer.from(r.sig!, 'hex');
        assert.equal(verifySignature(key.publicKey, data, theirs), true, `${name}: custody verifies securesystemslib's signature`);
        assert.equal(verifySignature(key.publicKey, tampered, theirs), false, `${name}: custody rejects it over tampered data`);
      }
    });
  });
});
