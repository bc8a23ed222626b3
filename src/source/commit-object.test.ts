// Commit and tag objects: the signed payload is recovered byte for byte as git does it.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { haveComponents } from '../../test/support/components.ts';
import { Repo, sshKey, tempDir } from '../../test/source/git-fixture.ts';
import { InputError } from '../core/index.ts';
import { embedCommitSignature, parseCommitObject, parseTagObject, splitSignedCommit } from './commit-object.ts';
import { parseOpenSshPrivateKey } from './openssh-private-key.ts';
import { GitRepo } from './git-repo.ts';
import { parseSshsig, dearmorSshsig, signSshsig, verifySshsig } from './sshsig.ts';

const HEADER = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n';
const MERGETAG = 'mergetag object 1111111111111111111111111111111111111111\n type commit\n tag v1\n tagger T <t@x> 1700000000 +0000\n \n tag message\n -----BEGIN SSH SIGNATURE-----\n QUJD\n -----END SSH SIGNATURE-----\n';

describe('splitSignedCommit', () => {
  it('removes the gpgsig header and its continuation lines, keeping mergetag and the body', () => {
    const raw = `${HEADER}${MERGETAG}gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n\nmessage\n gpgsig lookalike in body\n`;
    const { payload, signature } = splitSignedCommit(Buffer.from(raw));
    assert.equal(Buffer.from(payload).toString(), `${HEADER}${MERGETAG}\nmessage\n gpgsig lookalike in body\n`);
    assert.equal(signature, '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n');
  });

  it('drops the other object format\'s signature header (gpgsig-sha256 in a SHA-1 repository)', () => {
    const raw = `${HEADER}gpgsig-sha256 other\n line2\ngpgsig sig\n more\n\nbody\n`;
    const { payload, signature } = splitSignedCommit(Buffer.from(raw));
    assert.equal(Buffer.from(payload).toString(), `${HEADER}\nbody\n`);
    assert.equal(signature, 'sig\nmore\n');
    const sha256 = splitSignedCommit(Buffer.from(raw), 'sha256');
    assert.equal(sha256.signature, 'other\nline2\n');
    assert.equal(Buffer.from(sha256.payload).toString(), `${HEADER}\nbody\n`);
  });

  it('returns the object unchanged and no signature when unsigned', () => {
    const raw = Buffer.from(`${HEADER}\nbody\n`);
    assert.deepEqual(splitSignedCommit(raw), { payload: raw });
  });

  it('never makes the payload longer than the object, whatever the header lines', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('tree x', 'gpgsig a', ' cont', 'gpgsig-sha256 b', 'mergetag m', 'parent p', '', 'body'), { maxLength: 12 }), (lines) => {
        const raw = Buffer.from(lines.join('\n'));
        const { payload } = splitSignedCommit(raw);
        assert.ok(payload.length <= raw.length);
      }),
    );
  });

  it('parseCommitObject throws only InputError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        try {
          parseCommitObject(Buffer.from(s));
        } catch (e) {
          assert.ok(e instanceof InputError);
        }
      }),
    );
  });
});

describe('signed tags merged into a commit (mergetag)', () => {
  const tmp = tempDir('custody-mergetag-');
  after(() => tmp.cleanup());

  it('keeps the mergetag in the commit payload and verifies the embedded tag signature', (t) => {
    if (!haveComponents(t, 'git', 'ssh-keygen')) return;
    const alice = sshKey(tmp.dir, 'alice');
    const repo = new Repo(join(tmp.dir, 'repo'), [alice]);
    repo.commit(alice, { a: '1' }, 'base');
    repo.git(['checkout', '-q', '-b', 'rel']);
    repo.commit(alice, { b: '2' }, 'release');
    repo.git(['-c', `user.signingkey=${alice.keyFile}`, 'tag', '-s', '-m', 'signed v1', 'v1'], { GIT_COMMITTER_NAME: 'alice', GIT_COMMITTER_EMAIL: alice.email });
    repo.git(['checkout', '-q', 'main']);
    repo.commit(alice, { c: '3' }, 'main moves');
    repo.git(['-c', `user.signingkey=${alice.keyFile}`, 'merge', '-q', '--no-ff', '-S', '-m', 'merge v1', 'v1'], { GIT_AUTHOR_NAME: 'alice', GIT_AUTHOR_EMAIL: alice.email, GIT_COMMITTER_NAME: 'alice', GIT_COMMITTER_EMAIL: alice.email });
    const git = new GitRepo(repo.dir);
    const obj = git.readObject(repo.head())!;
    const commit = parseCommitObject(obj.bytes);
    assert.equal(commit.mergetags.length, 1);
    assert.match(Buffer.from(commit.payload).toString(), /^mergetag object /m);
    const sig = parseSshsig(dearmorSshsig(commit.signature!));
    assert.deepEqual(verifySshsig(sig, commit.payload, 'git'), { ok: true });
    const tag = parseTagObject(commit.mergetags[0]!);
    assert.equal(tag.tag, 'v1');
    assert.deepEqual(verifySshsig(parseSshsig(dearmorSshsig(tag.signature!)), tag.payload, 'git'), { ok: true });
    // The standalone tag object gives the same payload.
    const tagObj = parseTagObject(git.readObject(repo.git(['rev-parse', 'v1']))!.bytes);
    assert.deepEqual(Buffer.from(tagObj.payload), Buffer.from(tag.payload));
  });
});

describe('embedCommitSignature', () => {
  const tmp = tempDir('custody-embed-');
  after(() => tmp.cleanup());

  it('writes a commit that git verify-commit accepts and that splits back into payload and signature', (t) => {
    if (!haveComponents(t, 'git', 'ssh-keygen')) return;
    const alice = sshKey(tmp.dir, 'alice');
    const repo = new Repo(join(tmp.dir, 'repo'), [alice]);
    repo.commit(alice, { a: '1' }, 'base', { sign: false });
    const git = new GitRepo(repo.dir);
    const unsigned = git.readObject(repo.head())!.bytes;
    const key = parseOpenSshPrivateKey(readFileSync(alice.keyFile, 'utf8'));
    const armored = signSshsig(key.keyObject, key.publicKey, unsigned, 'git');
    const signed = embedCommitSignature(unsigned, armored);
    const id = git.writeObject('commit', signed);
    assert.match(repo.git(['verify-commit', '--raw', id]), /^$/);
    assert.match(repo.git(['log', '-1', '--format=%G? %GS', id]), /^G alice@example.com$/);
    const split = splitSignedCommit(signed);
    assert.deepEqual(Buffer.from(split.payload), Buffer.from(unsigned));
    assert.equal(split.signature, armored);
  });
});

