// SSHSIG against OpenSSH's own ssh-keygen, both ways, for every key type git can sign with.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { haveComponents, which } from '../../test/support/components.ts';
import { sshKey, tempDir, type Person } from '../../test/source/git-fixture.ts';
import { InputError, verifySignature } from '../core/index.ts';
import { dearmorSshsig, parseSshsig, signSshsig, verifySshsig } from './sshsig.ts';
import { parseSshPublicKeyBlob, parseSshPublicKeyLine, sshKeyAsPublicKey } from './ssh-public-key.ts';
import { parseOpenSshPrivateKey } from './openssh-private-key.ts';
import { sshSigner } from './ssh-signer.ts';
import { allowedSignerApplies, parseAllowedSigners } from './allowed-signers.ts';

const TYPES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'rsa'] as const;
let tmp: ReturnType<typeof tempDir>;
const keys = new Map<string, Person>();

function keygenSign(person: Person, message: string, namespace: string, hashalg?: string): string {
  const file = join(tmp.dir, `msg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, message);
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', namespace, '-f', person.keyFile, ...(hashalg === undefined ? [] : ['-O', `hashalg=${hashalg}`]), file], { stdio: 'ignore' });
  return readFileSync(`${file}.sig`, 'utf8');
}

describe('SSHSIG', () => {
  before(() => {
    tmp = tempDir('custody-sshsig-');
    if (which('ssh-keygen') === undefined) return;
    for (const type of TYPES) keys.set(type, sshKey(tmp.dir, `k${type.replace('-', '')}`, type));
  });
  after(() => tmp.cleanup());

  for (const type of TYPES) {
    describe(`with a ${type} key`, () => {
      it('verifies what ssh-keygen -Y sign wrote, and rejects a changed message or namespace', (t) => {
        if (!haveComponents(t, 'ssh-keygen')) return;
        const person = keys.get(type)!;
        const sig = parseSshsig(dearmorSshsig(keygenSign(person, 'tree abc\n\nhello\n', 'git')));
        assert.equal(sig.hashAlgorithm, 'sha512');
        assert.deepEqual(Buffer.from(sig.publicKey.blob), Buffer.from(parseSshPublicKeyLine(person.publicLine).blob));
        assert.deepEqual(verifySshsig(sig, Buffer.from('tree abc\n\nhello\n'), 'git'), { ok: true });
        assert.deepEqual(verifySshsig(sig, Buffer.from('tree abc\n\nhellO\n'), 'git'), { ok: false, reason: 'SIGNATURE_INVALID' });
        assert.deepEqual(verifySshsig(sig, Buffer.from('tree abc\n\nhello\n'), 'file'), { ok: false, reason: 'NAMESPACE_MISMATCH' });
      });

      it('computes the fingerprint ssh-keygen -l prints', (t) => {
        if (!haveComponents(t, 'ssh-keygen')) return;
        const person = keys.get(type)!;
        const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${person.keyFile}.pub`], { encoding: 'utf8' }).split(' ')[1];
        assert.equal(parseSshPublicKeyLine(person.publicLine).fingerprint, printed);
      });
    });
  }

  it('verifies sha256 SSHSIGs', (t) => {
    if (!haveComponents(t, 'ssh-keygen')) return;
    const sig = parseSshsig(dearmorSshsig(keygenSign(keys.get('ed25519')!, 'm', 'git', 'sha256')));
    assert.equal(sig.hashAlgorithm, 'sha256');
    assert.deepEqual(verifySshsig(sig, Buffer.from('m'), 'git'), { ok: true });
  });

  for (const type of ['ed25519', 'ecdsa-256', 'ecdsa-384'] as const) {
    it(`signs (${type}) so that ssh-keygen -Y verify accepts it`, (t) => {
      if (!haveComponents(t, 'ssh-keygen')) return;
      const person = keys.get(type)!;
      const priv = parseOpenSshPrivateKey(readFileSync(person.keyFile, 'utf8'));
      const armored = signSshsig(priv.keyObject, priv.publicKey, Buffer.from('payload\n'), 'git');
      const sigFile = join(tmp.dir, `ours-${type}.sig`);
      const allowed = join(tmp.dir, `allowed-${type}`);
      writeFileSync(sigFile, armored);
      writeFileSync(allowed, `${person.email} ${person.publicLine}\n`);
      const out = execFileSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', person.email, '-n', 'git', '-s', sigFile], { input: 'payload\n', encoding: 'utf8' });
      assert.match(out, /Good "git" signature/);
      // The same private key signs DSSE under custody's schemes, verified with the SSH public key.
      const signer = sshSigner(priv);
      const pk = sshKeyAsPublicKey(priv.publicKey)!;
      assert.equal(pk.keyid, signer.keyid);
      return signer.sign(Buffer.from('x')).then((s) => assert.equal(verifySignature(pk, Buffer.from('x'), s), true));
    });
  }

  describe('allowed signers files', () => {
    it('reads principals, namespaces and validity windows', (t) => {
      if (!haveComponents(t, 'ssh-keygen')) return;
      const p = keys.get('ed25519')!;
      const [entry, plain] = parseAllowedSigners(`# team\n${p.email},ops@example.com namespaces="git,file",valid-after="20240101",valid-before="20300101Z" ${p.publicLine}\n\nx@example.com ${p.publicLine}\n`);
      assert.deepEqual(entry?.principals, [p.email, 'ops@example.com']);
      assert.deepEqual(entry?.namespaces, ['git', 'file']);
      assert.equal(allowedSignerApplies(entry, 'git', new Date('2025-06-01T00:00:00Z')), true);
      assert.equal(allowedSignerApplies(entry, 'git', new Date('2023-06-01T00:00:00Z')), false);
      assert.equal(allowedSignerApplies(entry, 'ssh', new Date('2025-06-01T00:00:00Z')), false);
      assert.equal(plain?.namespaces, undefined);
      assert.throws(() => parseAllowedSigners(`a cert-authority ${p.publicLine}`), (e: unknown) => e instanceof InputError && e.code === 'KEY_UNSUPPORTED');
    });
  });

  describe('untrusted input', () => {
    it('parseSshsig and parseSshPublicKeyBlob throw only InputError on arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          for (const parse of [parseSshsig, parseSshPublicKeyBlob]) {
            try {
              parse(bytes);
            } catch (e) {
              assert.ok(e instanceof InputError, String(e));
            }
          }
        }),
      );
    });

    it('parseSshsig rejects a valid blob with any byte flipped, or verification fails', (t) => {
      if (!haveComponents(t, 'ssh-keygen')) return;
      const blob = dearmorSshsig(keygenSign(keys.get('ed25519')!, 'msg', 'git'));
      fc.assert(
        fc.property(fc.nat({ max: blob.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
          const copy = Uint8Array.from(blob);
          copy[at] = (copy[at] as number) ^ x;
          try {
            const sig = parseSshsig(copy);
            assert.equal(verifySshsig(sig, Buffer.from('msg'), 'git').ok, false);
          } catch (e) {
            assert.ok(e instanceof InputError);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('parseAllowedSigners throws only InputError on arbitrary lines', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 200 }), (text) => {
          try {
            parseAllowedSigners(text);
          } catch (e) {
            assert.ok(e instanceof InputError, String(e));
          }
        }),
      );
    });
  });
});
