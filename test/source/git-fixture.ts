// Real git repositories for source tests: ssh-keygen keys, git's own SSH commit signing
// (gpg.format=ssh, user.signingkey, gpg.ssh.allowedSignersFile), helpers to commit as someone.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Person {
  name: string;
  email: string;
  keyFile: string;
  publicLine: string;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sshKey(dir: string, name: string, type: 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'rsa' = 'ed25519'): Person {
  const keyFile = join(dir, `${name}-${type}`);
  const args = type === 'ed25519' ? ['-t', 'ed25519'] : type === 'rsa' ? ['-t', 'rsa', '-b', '2048'] : ['-t', 'ecdsa', '-b', type.slice(6)];
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@example.com`, '-f', keyFile], { stdio: 'ignore' });
  return { name, email: `${name}@example.com`, keyFile, publicLine: readFileSync(`${keyFile}.pub`, 'utf8').trim() };
}

export class Repo {
  readonly dir: string;

  constructor(dir: string, allowedSigners: Person[] = [], objectFormat: 'sha1' | 'sha256' = 'sha1') {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.git(['init', '-q', '-b', 'main', `--object-format=${objectFormat}`]);
    this.git(['config', 'gpg.format', 'ssh']);
    this.git(['config', 'commit.gpgsign', 'false']);
    this.git(['config', 'tag.gpgsign', 'false']);
    const allowed = join(dir, '.git', 'allowed_signers');
    writeFileSync(allowed, allowedSigners.map((p) => `${p.email} namespaces="git" ${p.publicLine}`).join('\n') + '\n');
    this.git(['config', 'gpg.ssh.allowedSignersFile', allowed]);
  }

  git(args: string[], env: Record<string, string> = {}): string {
    return execFileSync('git', ['-C', this.dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: this.dir, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }).trim();
  }

  private identityEnv(p: Person): Record<string, string> {
    return { GIT_AUTHOR_NAME: p.name, GIT_AUTHOR_EMAIL: p.email, GIT_COMMITTER_NAME: p.name, GIT_COMMITTER_EMAIL: p.email };
  }

  /** Writes files and commits them as the person; signed with their key unless sign is false. */
  commit(p: Person, files: Record<string, string>, message: string, options: { sign?: boolean; amend?: boolean; signAs?: Person } = {}): string {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, path)), { recursive: true });
      writeFileSync(join(this.dir, path), content);
      this.git(['add', path]);
    }
    const signer = options.signAs ?? p;
    const sign = options.sign === false ? ['--no-gpg-sign'] : ['-S'];
    this.git(['-c', `user.signingkey=${signer.keyFile}`, 'commit', '-q', '--allow-empty', ...(options.amend === true ? ['--amend', '--reset-author'] : []), ...sign, '-m', message], this.identityEnv(p));
    return this.head();
  }

  merge(p: Person, branch: string, message: string, options: { sign?: boolean } = {}): string {
    const sign = options.sign === false ? ['--no-gpg-sign'] : ['-S'];
    this.git(['-c', `user.signingkey=${p.keyFile}`, 'merge', '-q', '--no-ff', ...sign, '-m', message, branch], this.identityEnv(p));
    return this.head();
  }

  head(): string {
    return this.git(['rev-parse', 'HEAD']);
  }
}

/** A source policy YAML naming identities by their SSH keys. */
export function policyYaml(people: Person[], rest: string): string {
  const ids = people.map((p) => `  ${p.name}:\n    emails: [${p.email}]\n    keys:\n      - "${p.publicLine}"`).join('\n');
  return `version: 1\nidentities:\n${ids}\n${rest}`;
}
