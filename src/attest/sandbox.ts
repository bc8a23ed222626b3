// The hermetic sandbox for build steps: bubblewrap (bwrap) with no network, fresh pid/uid/ipc/uts
// namespaces, a read-only system, only the declared inputs bound in (read-only), the declared
// output directories writable, tmpfs HOME and TMP, and a clean environment (SLSA Build L3
// "isolated", "hermetic").
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize, posix, resolve } from 'node:path';
import { InputError } from '../core/index.ts';
import { runCommand, type CommandResult } from './run-step.ts';

/** Where the step's files appear inside the sandbox unless the caller says otherwise. */
export const DEFAULT_SANDBOX_WORKDIR = '/build';
export const DEFAULT_SANDBOX_UID = 1000;
const SANDBOX_HOME = '/home/builder';
// System directories bound read-only. /etc is not: its files describe the host, not the build.
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export interface SandboxSpec {
  /** Host directory the declared paths are relative to. */
  hostDir: string;
  /** Relative paths of declared inputs (materials), bound read-only. */
  inputs: readonly string[];
  /** Relative paths of declared output directories (products), bound writable; created when missing. */
  outputs: readonly string[];
  /** Absolute host paths of toolchains (files or directories), bound read-only at the same path. */
  tools: readonly string[];
  /** The complete environment of the command (nothing else is passed in). */
  env: Readonly<Record<string, string>>;
  command: readonly string[];
  /** Absolute path inside the sandbox where hostDir's declared paths appear (default /build). */
  workdir?: string;
  uid?: number;
  timeoutMs?: number;
  passThrough?: boolean;
}

export interface SandboxResult extends CommandResult {
  /** The bwrap argument list used (for the provenance's internal parameters and debugging). */
  bwrapArgs: string[];
}

export interface SandboxInfo {
  path: string;
  version: string;
}

let probed: SandboxInfo | Error | undefined;

/**
 * Finds bwrap and checks that it can create the namespaces (it cannot in some containers).
 * Throws InputError SANDBOX_UNAVAILABLE with the reason; the result is cached per process.
 */
export function sandboxAvailable(): SandboxInfo {
  if (probed === undefined) {
    try {
      const version = execFileSync('bwrap', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      execFileSync('bwrap', ['--unshare-all', '--die-with-parent', '--ro-bind', '/usr', '/usr', ...systemLinks(), '--', '/usr/bin/true'], { stdio: 'ignore', timeout: 10_000 });
      const path = execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim();
      probed = { path, version: version.replace(/^bubblewrap\s+/, '') };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      probed = new Error(code === 'ENOENT' ? 'bubblewrap (bwrap) is not installed (apt-get install bubblewrap)' : `bubblewrap cannot create a sandbox here (${(e as Error).message.split('\n')[0] ?? 'error'})`);
    }
  }
  if (probed instanceof Error) {
    throw new InputError('SANDBOX_UNAVAILABLE', `cannot run the step hermetically: ${probed.message}; pass --no-hermetic to run it unsandboxed (the provenance then says so)`);
  }
  return probed;
}

/** /bin, /lib, ... as the host has them: symlinks into /usr (merged /usr) or directories bound read-only. */
function systemLinks(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (dir === '/usr' || !existsSync(dir)) continue;
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  return args;
}

function checkRelative(path: string, what: string): string {
  const n = posix.normalize(path.replace(/\\/g, '/'));
  if (isAbsolute(n) || n === '..' || n.startsWith('../')) throw new InputError('PATH_INVALID', `${what} '${path}' must be a relative path inside the step's directory`);
  return n === '' ? '.' : n.replace(/\/+$/, '');
}

function depth(p: string): number {
  return p === '.' ? 0 : p.split('/').length;
}

/** The bwrap arguments for a spec; `etcDir` holds the synthetic passwd and group files. */
export function bwrapArguments(spec: SandboxSpec, etcDir: string): string[] {
  const workdir = spec.workdir ?? DEFAULT_SANDBOX_WORKDIR;
  if (!posix.isAbsolute(workdir) || posix.normalize(workdir) !== workdir || workdir === '/') throw new InputError('PATH_INVALID', `sandbox workdir '${workdir}' must be a normalized absolute path`);
  const uid = spec.uid ?? DEFAULT_SANDBOX_UID;
  const args = [
    '--unshare-all', // user, ipc, pid, net, uts, cgroup namespaces: no network (only lo, nothing on it)
    '--die-with-parent',
    '--new-session',
    '--uid', String(uid),
    '--gid', String(uid),
    '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
    ...systemLinks(),
    '--ro-bind', join(etcDir, 'passwd'), '/etc/passwd',
    '--ro-bind', join(etcDir, 'group'), '/etc/group',
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
    '--tmpfs', SANDBOX_HOME,
  ];
  for (const tool of spec.tools) {
    if (!isAbsolute(tool)) throw new InputError('PATH_INVALID', `tool '${tool}' must be an absolute path`);
    const real = realpathOrFail(tool, 'tool');
    if (real.startsWith('/usr/')) continue;
    args.push('--ro-bind', real, normalize(tool));
    if (real !== normalize(tool)) args.push('--ro-bind', real, real);
  }
  // The workdir starts as an empty tmpfs; declared paths are bound in, parents before children,
  // then it is made read-only so only the declared output directories take writes.
  args.push('--tmpfs', workdir);
  const binds: { rel: string; writable: boolean }[] = [
    ...spec.inputs.map((p) => ({ rel: checkRelative(p, 'material'), writable: false })),
    ...spec.outputs.map((p) => ({ rel: checkRelative(p, 'product'), writable: true })),
  ];
  binds.sort((a, b) => depth(a.rel) - depth(b.rel) || Number(a.writable) - Number(b.writable));
  const base = realpathOrFail(spec.hostDir, 'step directory');
  for (const b of binds) {
    const host = resolve(spec.hostDir, b.rel);
    if (b.writable) mkdirSync(host, { recursive: true });
    else if (!existsSync(host)) throw new InputError('FILE_UNREADABLE', `material '${b.rel}' does not exist in ${spec.hostDir}`);
    // A symlink (say, committed in a hostile repository) must not bind host files into the sandbox.
    const real = realpathOrFail(host, b.writable ? 'product' : 'material');
    if (real !== base && !real.startsWith(`${base}/`)) throw new InputError('PATH_OUTSIDE_BASE', `'${b.rel}' resolves to ${real}, outside the step directory`);
    args.push(b.writable ? '--bind' : '--ro-bind', host, b.rel === '.' ? workdir : posix.join(workdir, b.rel));
  }
  args.push('--remount-ro', workdir, '--chdir', workdir, '--clearenv');
  const env: Record<string, string> = { HOME: SANDBOX_HOME, TMPDIR: '/tmp', ...spec.env };
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) args.push('--setenv', name, value);
  return args;
}

function realpathOrFail(path: string, what: string): string {
  try {
    return realpathSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `${what} '${path}' does not exist (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

/** Runs the command in a fresh sandbox; the caller checks availability first (sandboxAvailable). */
export async function runSandboxed(spec: SandboxSpec): Promise<SandboxResult> {
  const info = sandboxAvailable();
  const uid = spec.uid ?? DEFAULT_SANDBOX_UID;
  const etcDir = mkdtempSync(join(tmpdir(), 'custody-sandbox-etc-'));
  try {
    writeFileSync(join(etcDir, 'passwd'), `builder:x:${uid}:${uid}:builder:${SANDBOX_HOME}:/bin/sh\n`);
    writeFileSync(join(etcDir, 'group'), `builder:x:${uid}:\n`);
    const bwrapArgs = bwrapArguments(spec, etcDir);
    const result = await runCommand([info.path, ...bwrapArgs, '--', ...spec.command], {
      ...(spec.passThrough === undefined ? {} : { passThrough: spec.passThrough }),
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    });
    return { ...result, bwrapArgs };
  } finally {
    rmSync(etcDir, { recursive: true, force: true });
  }
}
