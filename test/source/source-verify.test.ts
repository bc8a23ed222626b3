// custody source verify on real git repositories: ssh-keygen keys, git's own SSH commit signing,
// reviews signed with the same SSH keys, the reference state log. Each failure has its own code.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { haveComponents, which } from '../support/components.ts';
import { Repo, policyYaml, sshKey, tempDir, type Person } from './git-fixture.ts';
import {
  GitRepo,
  parseOpenSshPrivateKey,
  parseSourcePolicy,
  recordRef,
  signReview,
  sshSigner,
  storeReviewInNotes,
  verifySource,
  type SourcePolicy,
  type SourceVerification,
} from '../../src/source/index.ts';
import { sourceCommand } from '../../src/cli/source.ts';

const POLICY_REST = `teams:
  core: [alice, bob]
  docs: [carol]
refs:
  - pattern: refs/heads/main
    signers: [core, docs]
    protected: true
    reviews: 1
  - pattern: refs/heads/**
    signers: ['*']
owners:
  - path: "*"
    owners: [core]
  - path: docs/
    owners: [docs]
`;

let tmp: ReturnType<typeof tempDir>;
let people: Record<'alice' | 'bob' | 'carol' | 'dave' | 'mallory', Person>;
let policy: SourcePolicy;
let policyFile: string;
let counter = 0;

function codes(result: SourceVerification): string[] {
  return [...result.commits.flatMap((c) => c.findings), ...result.reviews.flatMap((r) => r.findings), ...result.history].map((f) => f.code).sort();
}

async function approve(repo: Repo, who: Person, rev = 'HEAD'): Promise<void> {
  const git = new GitRepo(repo.dir);
  const envelope = await signReview(git, rev, sshSigner(parseOpenSshPrivateKey(readFileSync(who.keyFile, 'utf8'))));
  storeReviewInNotes(git, git.resolve(rev) ?? rev, envelope);
}

async function record(repo: Repo, who: Person, ref = 'refs/heads/main'): Promise<void> {
  await recordRef(new GitRepo(repo.dir), ref, sshSigner(parseOpenSshPrivateKey(readFileSync(who.keyFile, 'utf8'))));
}

/** A repository whose main holds one approved, recorded commit by alice. */
async function baseRepo(): Promise<Repo> {
  const { alice, bob, carol, dave } = people;
  const repo = new Repo(join(tmp.dir, `repo-${++counter}`), [alice, bob, carol, dave]);
  repo.commit(alice, { 'src/a.ts': 'export const a = 1;\n' }, 'add a');
  await approve(repo, bob);
  await record(repo, alice);
  return repo;
}

function verify(repo: Repo, options: { ref?: string; range?: string } = { ref: 'main' }): SourceVerification {
  return verifySource(new GitRepo(repo.dir), policy, options);
}

describe('source verify', () => {
  before(() => {
    tmp = tempDir('custody-source-');
    if (which('git') === undefined || which('ssh-keygen') === undefined) return;
    people = {
      alice: sshKey(tmp.dir, 'alice'),
      bob: sshKey(tmp.dir, 'bob', 'ecdsa-256'),
      carol: sshKey(tmp.dir, 'carol'),
      dave: sshKey(tmp.dir, 'dave'),
      mallory: sshKey(tmp.dir, 'mallory'),
    };
    const { alice, bob, carol, dave } = people;
    policyFile = join(tmp.dir, 'source.yaml');
    writeFileSync(policyFile, policyYaml([alice, bob, carol, dave], POLICY_REST));
    policy = parseSourcePolicy(readFileSync(policyFile, 'utf8'));
  });
  after(() => tmp.cleanup());

  describe('when the history follows the policy', () => {
    it('passes every commit, review and log check and reports source level 4', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const { alice, bob, carol } = people;
      const repo = await baseRepo();
      repo.commit(carol, { 'docs/guide.md': '# guide\n' }, 'docs');
      await approve(repo, alice);
      await record(repo, carol);
      repo.git(['checkout', '-q', '-b', 'feature']);
      repo.commit(bob, { 'src/b.ts': 'export const b = 2;\n' }, 'add b');
      repo.git(['checkout', '-q', 'main']);
      repo.merge(alice, 'feature', 'merge feature');
      await approve(repo, carol);
      await record(repo, alice);
      const result = verify(repo);
      assert.deepEqual(codes(result), []);
      assert.equal(result.passed, true);
      assert.equal(result.commits.length, 4);
      assert.ok(result.commits.every((c) => c.signer !== undefined));
      assert.deepEqual(result.reviews.map((r) => r.approvers), [['carol'], ['alice'], ['bob']]);
      // The merge's authors are its committer and the feature's author.
      assert.deepEqual(result.reviews[0]?.authors, ['alice', 'bob']);
      assert.ok(result.levels.includes('SLSA_SOURCE_LEVEL_4'));
      // Our verdict on each signature agrees with git's own.
      for (const c of result.commits) assert.equal(repo.git(['verify-commit', c.commit]), '');
    });

    it('verifies only the commits of a range', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      const first = repo.head();
      repo.commit(people.bob, { 'src/c.ts': 'c\n' }, 'add c');
      await approve(repo, people.alice);
      await record(repo, people.bob);
      const result = verify(repo, { range: `${first}..main` });
      assert.equal(result.passed, true);
      assert.deepEqual(result.commits.map((c) => c.commit), [repo.head()]);
    });
  });

  describe('in a SHA-256 repository', () => {
    it('verifies gpgsig-sha256 signatures, reviews and the log with 64-hex object ids', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const { alice, bob } = people;
      const repo = new Repo(join(tmp.dir, `repo-${++counter}`), [alice, bob], 'sha256');
      repo.commit(alice, { 'src/a.ts': 'a\n' }, 'a');
      await approve(repo, bob);
      await record(repo, alice);
      assert.match(repo.git(['cat-file', 'commit', 'HEAD']), /^gpgsig-sha256 /m);
      const result = verify(repo);
      assert.deepEqual(codes(result), []);
      assert.match(result.tip, /^[0-9a-f]{64}$/);
      repo.commit(bob, { 'src/b.ts': 'b\n' }, 'b', { sign: false });
      await approve(repo, alice);
      await record(repo, bob);
      assert.deepEqual(codes(verify(repo)), ['UNSIGNED']);
    });
  });

  describe('when a commit breaks the policy', () => {
    it('reports an unsigned commit as UNSIGNED', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'src/u.ts': 'u\n' }, 'unsigned', { sign: false });
      await approve(repo, people.bob);
      await record(repo, people.alice);
      const result = verify(repo);
      assert.deepEqual(codes(result), ['UNSIGNED']);
      assert.equal(result.commits[0]?.findings[0]?.commit, repo.head());
      assert.deepEqual(result.levels, []);
    });

    it('reports a commit changed after signing as SIGNATURE_INVALID', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'src/t.ts': 't\n' }, 'original message');
      const git = new GitRepo(repo.dir);
      const raw = Buffer.from(git.readObject(repo.head())!.bytes).toString('utf8');
      const forged = git.writeObject('commit', raw.replace('original message', 'forged message'));
      repo.git(['update-ref', 'refs/heads/main', forged]);
      repo.git(['reset', '-q', '--hard', forged]);
      await approve(repo, people.bob);
      await record(repo, people.alice);
      assert.deepEqual(codes(verify(repo)), ['SIGNATURE_INVALID']);
      assert.throws(() => repo.git(['verify-commit', forged]));
    });

    it('reports a key no identity holds as KEY_UNKNOWN', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'src/m.ts': 'm\n' }, 'signed by mallory', { signAs: people.mallory });
      await approve(repo, people.bob);
      await record(repo, people.alice);
      assert.deepEqual(codes(verify(repo)), ['KEY_UNKNOWN']);
    });

    it('reports an identity without write access to the ref as SIGNER_NOT_AUTHORIZED_FOR_REF, but not on a ref that allows it', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.git(['checkout', '-q', '-b', 'topic']);
      repo.commit(people.dave, { 'src/d.ts': 'd\n' }, 'dave');
      assert.equal(verify(repo, { ref: 'topic' }).passed, true);
      repo.git(['checkout', '-q', 'main']);
      repo.git(['merge', '-q', '--ff-only', 'topic']);
      await approve(repo, people.bob);
      await record(repo, people.alice);
      const result = verify(repo);
      assert.deepEqual(codes(result), ['PATH_OWNED_BY_OTHERS', 'SIGNER_NOT_AUTHORIZED_FOR_REF']);
    });

    it('reports a change to a path owned by another team as PATH_OWNED_BY_OTHERS naming the path', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'docs/guide.md': 'alice edits the docs\n' }, 'docs by alice');
      await approve(repo, people.bob);
      await record(repo, people.alice);
      const result = verify(repo);
      assert.deepEqual(codes(result), ['PATH_OWNED_BY_OTHERS']);
      assert.equal(result.commits[0]?.findings[0]?.path, 'docs/guide.md');
    });
  });

  describe('when reviews fall short', () => {
    it('does not count an author approving their own change (REVIEW_SELF_APPROVAL)', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'src/s.ts': 's\n' }, 'self reviewed');
      await approve(repo, people.alice);
      await record(repo, people.alice);
      const result = verify(repo);
      assert.deepEqual(codes(result), ['REVIEW_SELF_APPROVAL']);
      assert.deepEqual(result.reviews[0]?.approvers, []);
    });

    it('lets an approval lapse when the tree changes after it (REVIEW_STALE)', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'src/x.ts': 'reviewed\n' }, 'change');
      await approve(repo, people.bob);
      repo.commit(people.alice, { 'src/x.ts': 'changed after review\n' }, 'change', { amend: true });
      await record(repo, people.alice);
      assert.deepEqual(codes(verify(repo)), ['REVIEW_STALE']);
    });

    it('reports a change nobody approved as REVIEW_MISSING, and one approved only without write access as REVIEW_NO_WRITER', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      repo.commit(people.alice, { 'src/n.ts': 'n\n' }, 'unreviewed');
      await record(repo, people.alice);
      assert.deepEqual(codes(verify(repo)), ['REVIEW_MISSING']);
      await approve(repo, people.dave);
      assert.deepEqual(codes(verify(repo)), ['REVIEW_NO_WRITER']);
    });
  });

  describe('when protected history is rewritten', () => {
    it('reports a recorded force-push as RSL_FORCE_PUSH', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      const first = repo.head();
      repo.commit(people.alice, { 'src/f.ts': 'f\n' }, 'to be dropped');
      await approve(repo, people.bob);
      await record(repo, people.alice);
      repo.git(['reset', '-q', '--hard', first]);
      repo.commit(people.bob, { 'src/g.ts': 'g\n' }, 'replacement');
      await approve(repo, people.alice);
      await record(repo, people.bob);
      const result = verify(repo);
      assert.deepEqual(codes(result), ['RSL_FORCE_PUSH']);
      assert.equal(result.history[0]?.entry, 3);
    });

    it('reports an unrecorded update as RSL_UNRECORDED_UPDATE and an unrecorded rewrite as RSL_REF_REWRITTEN', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      const first = repo.head();
      repo.commit(people.alice, { 'src/h.ts': 'h\n' }, 'not recorded');
      await approve(repo, people.bob);
      assert.deepEqual(codes(verify(repo)), ['RSL_UNRECORDED_UPDATE']);
      repo.git(['reset', '-q', '--hard', `${first}`]);
      repo.commit(people.bob, { 'src/i.ts': 'i\n' }, 'rewritten', { amend: true });
      await approve(repo, people.alice);
      assert.deepEqual(codes(verify(repo)), ['RSL_REF_REWRITTEN']);
    });

    it('reports a tampered log entry and stops trusting the log there', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      // Rewrite the only entry's envelope with another payload but the same signature.
      const git = new GitRepo(repo.dir);
      const tip = git.resolve('refs/custody/rsl') as string;
      const raw = repo.git(['cat-file', 'blob', `${tip}:entry.intoto.json`]);
      const env = JSON.parse(raw) as { payload: string };
      const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: { commit: string } };
      statement.predicate.commit = '0'.repeat(40);
      env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
      const blob = git.writeObject('blob', `${JSON.stringify(env)}\n`);
      const tree = git.writeTree([`100644 blob ${blob}\tentry.intoto.json`]);
      const forged = repo.git(['commit-tree', tree, '-m', 'forged'], { GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' });
      repo.git(['update-ref', 'refs/custody/rsl', forged]);
      assert.deepEqual(codes(verify(repo)), ['RSL_NOT_RECORDED', 'RSL_SIGNATURE_INVALID']);
    });
  });

  describe('the command line', () => {
    it('prints per-commit results as JSON, exits 1 on failure, and writes a signed source VSA', async (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen')) return;
      const repo = await baseRepo();
      const out = join(tmp.dir, 'cli-out');
      mkdirSync(out, { recursive: true });
      const vsa = join(out, 'source.vsa.json');
      const written: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => {
        written.push(String(chunk));
        return true;
      });
      const previousExit = process.exitCode;
      try {
        await sourceCommand().parseAsync(['verify', '--repo', repo.dir, '--policy', policyFile, '--ref', 'main', '--json', '--attest', vsa, '--key', people.alice.keyFile], { from: 'user' });
        assert.equal(process.exitCode, previousExit);
        const json = JSON.parse(written.join('')) as { passed: boolean };
        assert.equal(json.passed, true);
        const envelope = JSON.parse(readFileSync(vsa, 'utf8')) as { payload: string };
        const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { subject: { digest: { gitCommit: string } }[]; predicate: { verificationResult: string; verifiedLevels: string[] } };
        assert.equal(statement.subject[0]?.digest.gitCommit, repo.head());
        assert.equal(statement.predicate.verificationResult, 'PASSED');
        assert.ok(statement.predicate.verifiedLevels.includes('SLSA_SOURCE_LEVEL_3'));
        repo.commit(people.alice, { 'src/z.ts': 'z\n' }, 'unsigned', { sign: false });
        written.length = 0;
        await sourceCommand().parseAsync(['verify', '--repo', repo.dir, '--policy', policyFile, '--ref', 'main', '--json'], { from: 'user' });
        assert.equal(process.exitCode, 1);
        // record appends to the log; log replays it (2 entries: the base one and this one).
        await sourceCommand().parseAsync(['record', 'refs/heads/main', '--repo', repo.dir, '--key', people.alice.keyFile, '--json'], { from: 'user' });
        written.length = 0;
        await sourceCommand().parseAsync(['log', '--repo', repo.dir, '--policy', policyFile, '--json'], { from: 'user' });
        const log = JSON.parse(written.join('')) as { entries: { number: number; commit: string }[]; findings: unknown[] };
        assert.deepEqual(log.entries.map((e) => e.number), [1, 2]);
        assert.equal(log.entries[1]?.commit, repo.head());
        assert.deepEqual(log.findings, []);
        // approve --out writes a file the verifier reads with --approvals.
        await sourceCommand().parseAsync(['approve', 'HEAD', '--repo', repo.dir, '--key', people.bob.keyFile, '--out', out, '--json'], { from: 'user' });
        assert.equal(readdirSync(out).filter((f) => f.startsWith('review-')).length, 1);
      } finally {
        process.stdout.write = write;
        process.exitCode = previousExit;
      }
    });
  });

  describe('OpenPGP signatures (through gpg)', () => {
    function gpgKey(home: string, who: string): string {
      mkdirSync(home, { recursive: true, mode: 0o700 });
      execFileSync('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-gen-key', `${who} <${who}@example.com>`, 'ed25519', 'sign', 'never'], { stdio: 'ignore' });
      return execFileSync('gpg', ['--homedir', home, '--armor', '--export', `${who}@example.com`], { encoding: 'utf8' });
    }

    it('accepts a commit signed by a listed OpenPGP key and reports another key as KEY_UNKNOWN', (t) => {
      if (!haveComponents(t, 'git', 'ssh-keygen', 'gpg')) return;
      const pat = { ...people.alice, name: 'pat', email: 'pat@example.com' };
      const home = join(tmp.dir, 'gnupg');
      const armored = gpgKey(home, 'pat');
      gpgKey(home, 'eve');
      const yaml = `version: 1\nidentities:\n  pat:\n    emails: [pat@example.com]\n    keys:\n      - |\n${armored.trim().split('\n').map((l) => `        ${l}`).join('\n')}\nrefs:\n  - pattern: refs/heads/**\n    signers: [pat]\n`;
      const pgpPolicy = parseSourcePolicy(yaml);
      const repo = new Repo(join(tmp.dir, `repo-${++counter}`));
      const commit = (signer: string): void => {
        writeFileSync(join(repo.dir, `${signer}.txt`), signer);
        repo.git(['add', '.']);
        repo.git(['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${signer}@example.com`, 'commit', '-q', '-S', '-m', signer], { GNUPGHOME: home, GIT_AUTHOR_NAME: 'pat', GIT_AUTHOR_EMAIL: pat.email, GIT_COMMITTER_NAME: 'pat', GIT_COMMITTER_EMAIL: pat.email });
      };
      commit('pat');
      const good = verifySource(new GitRepo(repo.dir), pgpPolicy, { ref: 'main' });
      assert.equal(good.passed, true, JSON.stringify(good.commits[0]?.findings));
      assert.equal(good.commits[0]?.signer, 'pat');
      commit('eve');
      assert.deepEqual(codes(verifySource(new GitRepo(repo.dir), pgpPolicy, { ref: 'main' })), ['KEY_UNKNOWN']);
      // Without OpenPGP keys in the policy the signature cannot be checked.
      assert.deepEqual(codes(verify(repo)).includes('SIGNATURE_UNSUPPORTED'), true);
    });
  });
});
