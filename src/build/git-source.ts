// The source a build step ran from: repository URI, commit, commit time (for SOURCE_DATE_EPOCH),
// the step's directory inside the repository, and whether the work tree had local changes.
import { execFileSync } from 'node:child_process';
import { relative, resolve } from 'node:path';
import { InputError } from '../core/index.ts';

export interface GitSource {
  /** Repository URI as SLSA writes it: `git+<remote URL>` (or `git+file://<top level>` without a remote). */
  uri: string;
  /** Full commit id (hex). */
  commit: string;
  /** Committer time, seconds since the epoch. */
  commitTime: number;
  /** The step's directory relative to the repository's top level ('.' at the top). */
  path: string;
  /** The work tree differed from the commit when the step ran. */
  dirty: boolean;
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'safe.directory=*', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The git source of a directory, or undefined when it is not inside a git work tree with a commit. */
export function gitSource(dir: string): GitSource | undefined {
  let top: string;
  let commit: string;
  try {
    top = git(dir, ['rev-parse', '--show-toplevel']);
    commit = git(dir, ['rev-parse', '--verify', 'HEAD^{commit}']);
  } catch {
    return undefined;
  }
  let remote = '';
  try {
    remote = git(dir, ['remote', 'get-url', 'origin']);
  } catch {
    // No remote: the local repository is the source.
  }
  const commitTime = Number(git(dir, ['show', '-s', '--format=%ct', commit]));
  const path = relative(top, resolve(dir)).replace(/\\/g, '/') || '.';
  const dirty = git(dir, ['status', '--porcelain', '--untracked-files=no', '--', '.']) !== '';
  return { uri: `git+${remote === '' ? `file://${top}` : remote}`, commit, commitTime, path, dirty };
}

/** A clean checkout of `commit` from `repository` (a URL or a local path) into `dest`. */
export function checkoutCommit(repository: string, commit: string, dest: string): void {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new InputError('USAGE', `'${commit}' is not a full commit id`);
  const url = repository.startsWith('git+') ? repository.slice(4) : repository;
  try {
    git(process.cwd(), ['clone', '--quiet', '--no-checkout', url, dest]);
    git(dest, ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', commit]);
  } catch (e) {
    const stderr = (e as { stderr?: unknown }).stderr;
    throw new InputError('FILE_UNREADABLE', `cannot check out ${commit} from ${url}: ${typeof stderr === 'string' ? stderr.trim().split('\n')[0] : (e as Error).message}`, { cause: e });
  }
}
