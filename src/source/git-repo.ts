// The adapter to real git: every git process custody's source checks start goes through here.
// Objects are read in bulk (one `git cat-file --batch`), never one process per commit.
import { execFileSync } from 'node:child_process';
import { InputError } from '../core/index.ts';

export interface GitObject {
  readonly type: string;
  readonly bytes: Uint8Array;
}

const MAX_BUFFER = 1 << 30;

export class GitRepo {
  readonly dir: string;
  private format: 'sha1' | 'sha256' | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Runs git and returns stdout; a failure becomes InputError('INPUT_INVALID') unless allowed. */
  run(args: readonly string[], input?: Uint8Array | string, env?: Record<string, string>): Buffer {
    try {
      return execFileSync('git', ['-C', this.dir, ...args], {
        input: input ?? '',
        maxBuffer: MAX_BUFFER,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env },
      });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
      throw new InputError('INPUT_INVALID', `git ${args[0] ?? ''} failed in ${this.dir}: ${stderr.split('\n')[0] ?? ''}`, { cause: e });
    }
  }

  text(args: readonly string[], input?: Uint8Array | string, env?: Record<string, string>): string {
    return this.run(args, input, env).toString('utf8');
  }

  /** Runs git and reports success or failure (for predicates such as merge-base --is-ancestor). */
  succeeds(args: readonly string[]): boolean {
    try {
      execFileSync('git', ['-C', this.dir, ...args], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  objectFormat(): 'sha1' | 'sha256' {
    this.format ??= this.text(['rev-parse', '--show-object-format']).trim() === 'sha256' ? 'sha256' : 'sha1';
    return this.format;
  }

  /** Full object id of a revision, or undefined when it does not resolve. */
  resolve(rev: string): string | undefined {
    try {
      return this.text(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** The full ref name a revision names ("main" → "refs/heads/main"), or undefined. */
  fullRefName(rev: string): string | undefined {
    try {
      return this.text(['rev-parse', '--symbolic-full-name', rev]).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Refs and their values, optionally under a prefix. */
  refs(prefix?: string): Map<string, string> {
    const out = new Map<string, string>();
    const text = this.text(['for-each-ref', '--format=%(refname) %(objectname)', ...(prefix === undefined ? [] : [prefix])]);
    for (const line of text.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) out.set(line.slice(0, sp), line.slice(sp + 1));
    }
    return out;
  }

  /** rev-list with arguments (e.g. ["A..B"]), newest first; --topo-order keeps parents after children. */
  revList(args: readonly string[]): string[] {
    return this.text(['rev-list', '--topo-order', ...args]).split('\n').filter((l) => l !== '');
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.succeeds(['merge-base', '--is-ancestor', ancestor, descendant]);
  }

  /** Reads objects in one `git cat-file --batch` process. Missing objects are left out. */
  readObjects(ids: readonly string[]): Map<string, GitObject> {
    const out = new Map<string, GitObject>();
    if (ids.length === 0) return out;
    const buf = this.run(['cat-file', '--batch'], `${ids.join('\n')}\n`);
    let at = 0;
    for (const id of ids) {
      const nl = buf.indexOf(0x0a, at);
      if (nl < 0) break;
      const head = buf.toString('latin1', at, nl);
      at = nl + 1;
      const parts = head.split(' ');
      if (parts[1] === 'missing' || parts.length !== 3) continue;
      const size = Number(parts[2]);
      out.set(id, { type: parts[1] ?? '', bytes: buf.subarray(at, at + size) });
      at += size + 1;
    }
    return out;
  }

  readObject(id: string): GitObject | undefined {
    return this.readObjects([id]).get(id);
  }

  /**
   * Paths each commit changes: against its parent, against nothing for a root commit, and for a
   * merge only the paths that differ from every parent (`diff-tree -c`): what the merge itself
   * authored (conflict resolutions, "evil merge" edits), not what its parents brought in.
   */
  changedPaths(commits: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (commits.length === 0) return out;
    const wanted = new Set(commits);
    const text = this.text(['diff-tree', '--stdin', '-r', '--name-only', '--root', '-c', '-z', '--no-renames'], `${commits.join('\n')}\n`);
    let current: string[] | undefined;
    for (const token of text.split('\0')) {
      if (token === '') continue;
      if (wanted.has(token) && !out.has(token)) {
        current = [];
        out.set(token, current);
      } else current?.push(token);
    }
    for (const c of commits) if (!out.has(c)) out.set(c, []);
    return out;
  }

  writeObject(type: 'blob' | 'commit' | 'tag', bytes: Uint8Array | string): string {
    return this.text(['hash-object', '-t', type, '-w', '--stdin'], typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).trim();
  }

  /** Writes a tree from "mode type id\tname" lines. */
  writeTree(entries: readonly string[]): string {
    return this.text(['mktree'], entries.length === 0 ? '' : `${entries.join('\n')}\n`).trim();
  }

  /** Compare-and-swap update of a ref (old = undefined means "must not exist yet"). */
  updateRef(ref: string, value: string, old: string | undefined, message: string): void {
    const zero = this.objectFormat() === 'sha256' ? '0'.repeat(64) : '0'.repeat(40);
    this.run(['update-ref', '-m', message, ref, value, old ?? zero]);
  }
}
