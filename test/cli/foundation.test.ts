// The issue-2 commands end to end through the real CLI: exit codes, --json shapes, one-line errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError, custody, CUSTODY_BIN, tempDir } from '../support/cli.ts';

function errorCode(stderr: string): string | undefined {
  return /\[([A-Z_]+)\]\s*$/.exec(stderr.trim())?.[1];
}

describe('custody CLI (foundation)', () => {
  describe('when asked for its version or help', () => {
    it('prints the package version', () => {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      const r = custody(['--version']);
      assert.equal(r.status, 0);
      assert.equal(r.stdout.trim(), pkg.version);
    });
    it('shows an example in every command help', () => {
      for (const args of [['key', 'generate'], ['key', 'show'], ['key', 'export'], ['key', 'import'], ['digest'], ['attest'], ['verify-envelope']]) {
        const r = custody([...args, '--help']);
        assert.equal(r.status, 0, args.join(' '));
        assert.match(r.stdout, /Examples?:\n\s+\$ custody /, args.join(' '));
      }
    });
    it('exits 2 on an unknown command or a missing required option', () => {
      assert.equal(custody(['frobnicate']).status, 2);
      assert.equal(custody(['key', 'generate']).status, 2);
    });
  });

  describe('when run on an old Node.js', () => {
    it('refuses with one line and exit 2', (t) => {
      const candidates = ['/usr/local/bin/node', '/usr/bin/node'];
      const old = candidates.find((p) => {
        try {
          return Number(execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim()) < 24;
        } catch {
          return false;
        }
      });
      if (old === undefined) {
        t.skip('no Node.js older than 24 on this machine to try');
        return;
      }
      let status = 0;
      let stderr = '';
      try {
        execFileSync(old, [CUSTODY_BIN, '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        status = (e as { status: number }).status;
        stderr = (e as { stderr: string }).stderr;
      }
      assert.equal(status, 2);
      assert.match(stderr, /needs Node\.js 24/);
      assert.equal(stderr.trim().split('\n').length, 1);
    });
  });

  describe('key generate / show / export / import', () => {
    for (const type of ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa']) {
      it(`round-trips a ${type} key and keeps its key id`, () => {
        using dir = tempDir();
        const gen = custody(['key', 'generate', '--type', type, '--out', 'k', '--json'], { cwd: dir.path });
        assert.equal(gen.status, 0, gen.stderr);
        const generated = JSON.parse(gen.stdout) as { keyid: string; type: string };
        assert.equal(generated.type, type);
        assert.equal(statSync(join(dir.path, 'k.key')).mode & 0o777, 0o600);
        const shown = JSON.parse(custody(['key', 'show', 'k.pub', '--json'], { cwd: dir.path }).stdout) as { keyid: string; type: string };
        assert.deepEqual({ type: shown.type, keyid: shown.keyid }, { type, keyid: generated.keyid });
        const exported = custody(['key', 'export', 'k.key', '--format', 'securesystemslib', '--out', 'k.json'], { cwd: dir.path });
        assert.equal(exported.status, 0, exported.stderr);
        const imported = custody(['key', 'import', 'k.json', '--out', 'again', '--json'], { cwd: dir.path });
        assert.equal(imported.status, 0, imported.stderr);
        assert.equal((JSON.parse(imported.stdout) as { keyid: string }).keyid, generated.keyid);
      });
    }
    it('refuses to overwrite an existing key without --force', () => {
      using dir = tempDir();
      assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
      const again = custody(['key', 'generate', '--out', 'k'], { cwd: dir.path });
      assert.equal(again.status, 2);
      assert.equal(errorCode(assertOneLineError(again)), 'USAGE');
    });
  });

  describe('when given bad key input', () => {
    const cases: [string, (dir: string) => string[], number, string][] = [
      ['a truncated PEM', (d) => {
        const pem = readFileSync(join(d, 'k.pub'), 'utf8');
        writeFileSync(join(d, 'bad.pub'), pem.slice(0, 60));
        return ['key', 'show', 'bad.pub'];
      }, 2, 'PEM_INVALID'],
      ['a garbled PEM', (d) => {
        const pem = readFileSync(join(d, 'k.pub'), 'utf8').replace('MCow', 'M!!Cow');
        writeFileSync(join(d, 'bad.pub'), pem);
        return ['key', 'show', 'bad.pub'];
      }, 2, 'PEM_INVALID'],
      ['a wrong passphrase', () => ['key', 'show', 'enc.key', '--passphrase-env', 'WRONG'], 2, 'KEY_PASSPHRASE_WRONG'],
      ['no passphrase for an encrypted key', () => ['key', 'show', 'enc.key'], 2, 'KEY_PASSPHRASE_REQUIRED'],
      ['a missing file', () => ['key', 'show', 'nope.pub'], 2, 'FILE_UNREADABLE'],
    ];
    for (const [what, setup, status, code] of cases) {
      it(`fails with ${code} for ${what}`, () => {
        using dir = tempDir();
        const env = { PASS: 'correct horse', WRONG: 'battery staple' };
        assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
        assert.equal(custody(['key', 'generate', '--out', 'enc', '--passphrase-env', 'PASS'], { cwd: dir.path, env }).status, 0);
        const r = custody(setup(dir.path), { cwd: dir.path, env });
        assert.equal(r.status, status);
        assert.equal(errorCode(assertOneLineError(r)), code);
      });
    }
  });

  describe('attest and verify-envelope', () => {
    function setup(dir: string): void {
      for (const name of ['alice', 'bob']) assert.equal(custody(['key', 'generate', '--out', name], { cwd: dir }).status, 0);
      writeFileSync(join(dir, 'app.bin'), 'the artifact\n');
      writeFileSync(join(dir, 'other.bin'), 'something else\n');
      writeFileSync(join(dir, 'pred.json'), '{"result":"PASSED"}');
      const r = custody(['attest', '--subject', 'app.bin', '--type', 'https://example.com/p/v1', '--predicate', 'pred.json', '--key', 'alice.key', '--out', 'att.json'], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
    }

    it('verifies a good envelope and reports subjects and predicate type', () => {
      using dir = tempDir();
      setup(dir.path);
      const r = custody(['verify-envelope', 'att.json', '--key', 'alice.pub', '--artifact', 'app.bin', '--json'], { cwd: dir.path });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { predicateType: string; subject: { name: string }[] };
      assert.equal(out.predicateType, 'https://example.com/p/v1');
      assert.deepEqual(out.subject.map((s) => s.name), ['app.bin']);
    });

    const failures: [string, (dir: string) => string[], string][] = [
      ['an artifact that is not a subject', () => ['verify-envelope', 'att.json', '--key', 'alice.pub', '--artifact', 'other.bin'], 'SUBJECT_MISMATCH'],
      ['a signature by another key', () => ['verify-envelope', 'att.json', '--key', 'bob.pub'], 'KEY_UNKNOWN'],
      ['the same key counted twice toward a threshold', (d) => {
        const env = JSON.parse(readFileSync(join(d, 'att.json'), 'utf8')) as { signatures: unknown[] };
        env.signatures.push(env.signatures[0]);
        writeFileSync(join(d, 'twice.json'), JSON.stringify(env));
        return ['verify-envelope', 'twice.json', '--key', 'alice.pub', '--key', 'bob.pub', '--threshold', '2'];
      }, 'THRESHOLD_NOT_MET'],
      ['a tampered payload', (d) => {
        const env = JSON.parse(readFileSync(join(d, 'att.json'), 'utf8')) as { payload: string };
        const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: { result: string } };
        statement.predicate.result = 'FAILED';
        env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
        writeFileSync(join(d, 'tampered.json'), JSON.stringify(env));
        return ['verify-envelope', 'tampered.json', '--key', 'alice.pub'];
      }, 'SIGNATURE_INVALID'],
    ];
    for (const [what, args, code] of failures) {
      it(`exits 1 with ${code} for ${what}`, () => {
        using dir = tempDir();
        setup(dir.path);
        const r = custody(args(dir.path), { cwd: dir.path });
        assert.equal(r.status, 1);
        assert.equal(errorCode(assertOneLineError(r)), code);
      });
    }

    it('exits 2 for an envelope that is not JSON', () => {
      using dir = tempDir();
      setup(dir.path);
      writeFileSync(join(dir.path, 'junk.json'), '{"payload": ');
      const r = custody(['verify-envelope', 'junk.json', '--key', 'alice.pub'], { cwd: dir.path });
      assert.equal(r.status, 2);
      assert.equal(errorCode(assertOneLineError(r)), 'JSON_INVALID');
    });
  });

  describe('digest', () => {
    it('prints sha256 and sha512 as JSON', () => {
      using dir = tempDir();
      writeFileSync(join(dir.path, 'f'), 'abc');
      const r = custody(['digest', '-a', 'sha256', '-a', 'sha512', '--json', 'f'], { cwd: dir.path });
      assert.equal(r.status, 0, r.stderr);
      const [entry] = JSON.parse(r.stdout) as { digest: Record<string, string> }[];
      assert.equal(entry?.digest['sha256'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      assert.equal(entry?.digest['sha512']?.slice(0, 16), 'ddaf35a193617aba');
    });
  });
});
