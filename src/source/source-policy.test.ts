// The source policy parser: strict fields, teams, ref patterns, CODEOWNERS-style owners, and
// identities merged in from an allowed_signers file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { ownersOf, parseSourcePolicy, refPatternToRegExp, refRuleFor } from './source-policy.ts';
import { sshString } from './ssh-wire.ts';

function ed25519Line(comment: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

const A = ed25519Line('a');
const B = ed25519Line('b');

describe('parseSourcePolicy', () => {
  it('expands teams and wildcards, and picks the first matching ref rule', () => {
    const p = parseSourcePolicy(`version: 1
identities:
  alice: { emails: [Alice@Example.com], keys: ["${A}"] }
  bob: { keys: ["${B}"] }
teams:
  core: [alice]
refs:
  - { pattern: refs/heads/main, signers: [core], protected: true, reviews: { required: 2 } }
  - { pattern: "refs/heads/**", signers: ["*"] }
  - { pattern: "refs/tags/*", signers: [bob] }
`);
    const main = refRuleFor(p, 'refs/heads/main');
    assert.deepEqual([...(main?.signers ?? [])], ['alice']);
    assert.equal(main?.reviews, 2);
    assert.deepEqual([...(refRuleFor(p, 'refs/heads/a/b')?.signers ?? [])].sort(), ['alice', 'bob']);
    assert.equal(refRuleFor(p, 'refs/tags/v1')?.pattern, 'refs/tags/*');
    assert.equal(refRuleFor(p, 'refs/tags/v1/x'), undefined);
    assert.deepEqual(p.identities.get('alice')?.emails, ['alice@example.com']);
    assert.equal(p.identities.get('alice')?.publicKeys.length, 1);
  });

  it('applies CODEOWNERS semantics: gitignore patterns, the last match wins', () => {
    const p = parseSourcePolicy(`version: 1
identities:
  alice: { keys: ["${A}"] }
  bob: { keys: ["${B}"] }
owners:
  - { path: "*", owners: [alice] }
  - { path: /docs/, owners: [bob] }
  - { path: "*.md", owners: [alice, bob] }
`);
    assert.equal(ownersOf(p, 'src/x.ts')?.pattern, '*');
    assert.equal(ownersOf(p, 'docs/guide.txt')?.pattern, '/docs/');
    assert.equal(ownersOf(p, 'docs/guide.md')?.pattern, '*.md');
    assert.equal(ownersOf(p, 'sub/docs/x.txt')?.pattern, '*');
  });

  it('merges principals of an allowed_signers file into identities by email', () => {
    const p = parseSourcePolicy(`version: 1\nidentities:\n  alice: { emails: [alice@example.com] }\nallowedSigners: signers\n`, {
      readFile: (rel) => {
        assert.equal(rel, 'signers');
        return `alice@example.com namespaces="git" ${A}\ncarol@example.com ${B}\n`;
      },
    });
    assert.equal(p.identities.get('alice')?.sshKeys.length, 1);
    assert.deepEqual(p.identities.get('carol@example.com')?.emails, ['carol@example.com']);
  });

  it('rejects unknown fields, unknown members and a missing version with INPUT_INVALID', () => {
    for (const text of [
      'identities: {}\n',
      'version: 1\nidentites: {}\n',
      'version: 1\nrefs:\n  - { pattern: refs/heads/main, signers: [nobody] }\n',
      'version: 1\nrefs:\n  - { pattern: main }\n',
      'version: 1\nrefs:\n  - { pattern: refs/heads/main, reviews: -1 }\n',
      'version: 1\nrefs:\n  - { pattern: refs/heads/main, protect: true }\n',
    ]) {
      assert.throws(() => parseSourcePolicy(text), (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID', text);
    }
  });

  it('throws only InputError on arbitrary YAML-ish text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseSourcePolicy(`version: 1\n${text}`);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
        }
      }),
    );
  });
});

describe('refPatternToRegExp', () => {
  it('matches * within a segment and ** across segments, everything else literally', () => {
    assert.ok(refPatternToRegExp('refs/heads/*').test('refs/heads/main'));
    assert.ok(!refPatternToRegExp('refs/heads/*').test('refs/heads/a/b'));
    assert.ok(refPatternToRegExp('refs/heads/**').test('refs/heads/a/b'));
    assert.ok(!refPatternToRegExp('refs/heads/v1.0').test('refs/heads/v1x0'));
  });
});
