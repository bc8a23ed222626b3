// custody hooks install, exercised by git itself: the pre-commit hook blocks a commit that stages a
// secret and lets a clean one through; the pre-push hook blocks pushing a secret in history.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveComponents } from '../support/components.ts';
import { Repo, sshKey, tempDir } from './git-fixture.ts';
import { fakeGithubToken } from './secrets-corpus.ts';

const CLI = fileURLToPath(new URL('../../bin/custody.js', import.meta.url));

function custody(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('custody hooks install', () => {
  const tmp = tempDir('custody-hooks-');
  after(() => tmp.cleanup());

  it('installs hooks that git runs: pre-commit refuses a staged secret, pre-push refuses a pushed one', (t) => {
    if (!haveComponents(t, 'git', 'ssh-keygen')) return;
    const alice = sshKey(tmp.dir, 'alice');
    const repo = new Repo(join(tmp.dir, 'repo'), [alice]);
    const installed = custody(['hooks', 'install', '--repo', repo.dir, '--command', `${process.execPath} ${CLI}`, '--json'], repo.dir);
    assert.equal(installed.status, 0, installed.stderr);
    assert.match(readFileSync(join(repo.dir, '.git', 'hooks', 'pre-commit'), 'utf8'), /scan secrets --staged/);
    repo.commit(alice, { 'ok.txt': 'nothing to see\n' }, 'clean', { sign: false });
    writeFileSync(join(repo.dir, 'leak.env'), `TOKEN=${fakeGithubToken()}\n`);
    repo.git(['add', 'leak.env']);
    assert.throws(() => repo.git(['commit', '-q', '-m', 'leak'], { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' }), /github-token/);
    // Committed anyway (--no-verify): pre-push stops it reaching the remote.
    repo.git(['commit', '-q', '--no-verify', '-m', 'leak'], { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' });
    const remote = join(tmp.dir, 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', remote]);
    repo.git(['remote', 'add', 'origin', remote]);
    assert.throws(() => repo.git(['push', '-q', 'origin', 'main']), /github-token/);
    assert.throws(() => execFileSync('git', ['-C', remote, 'rev-parse', '--verify', 'refs/heads/main'], { stdio: 'pipe' }));
    // Refuses to overwrite a hook it did not write.
    writeFileSync(join(repo.dir, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\necho mine\n');
    const again = custody(['hooks', 'install', '--repo', repo.dir], repo.dir);
    assert.equal(again.status, 2);
  });

  it('scan secrets exits 1 with findings and writes SARIF', (t) => {
    if (!haveComponents(t, 'git')) return;
    const dir = join(tmp.dir, 'plain');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'a.env'), `K=${fakeGithubToken()}\n`);
    const sarif = join(tmp.dir, 'out.sarif');
    const r = custody(['scan', 'secrets', '--repo', dir, '--format', 'sarif', '--out', sarif], dir);
    assert.equal(r.status, 1, r.stderr);
    const log = JSON.parse(readFileSync(sarif, 'utf8')) as { runs: { results: { ruleId: string }[] }[] };
    assert.deepEqual(log.runs[0]?.results.map((x) => x.ruleId), ['github-token']);
    writeFileSync(join(dir, 'a.env'), 'K=\n');
    assert.equal(custody(['scan', 'secrets', '--repo', dir], dir).status, 0);
  });
});
