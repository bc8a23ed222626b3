// The machinery of `custody demo`: a work directory with named places, the custody command line
// run as child processes (what a CI job would run, printed as such), and the failure a stage
// reports when a check refuses.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunningServer } from '../server/index.ts';

export const PROJECT_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
export const CUSTODY_JS = join(PROJECT_ROOT, 'bin', 'custody.js');
export const TYPESCRIPT = join(PROJECT_ROOT, 'node_modules', 'typescript');
export const TSC = join(TYPESCRIPT, 'bin', 'tsc');
export const EXAMPLE = join(PROJECT_ROOT, 'examples', 'supply-chain');
/** The release artifact, relative to the CI checkout (npm pack names it after package.json). */
export const ARTIFACT = 'out/greeter-1.0.0.tgz';
export const TARGET = 'greeter/greeter-1.0.0.tgz';

export type StepId = 'commit' | 'source' | 'trigger' | 'pre-build' | 'build' | 'post-build' | 'rebuild' | 'sign' | 'publish' | 'fetch' | 'consumer-scan' | 'deploy';

/** What a refusing check says: the stage, the stable code (rule), the artifact and the reason. */
export class StageFailure extends Error {
  readonly stage: StepId;
  readonly rule: string;
  readonly artifact: string;
  readonly reason: string;
  readonly checks: string[];

  constructor(stage: StepId, rule: string, artifact: string, reason: string, checks: string[] = []) {
    super(`${stage}: ${rule}: ${artifact}: ${reason}`);
    this.stage = stage;
    this.rule = rule;
    this.artifact = artifact;
    this.reason = reason;
    this.checks = checks;
  }
}

export interface Evidence {
  /** What it is (e.g. "SLSA provenance v1"). */
  what: string;
  /** Where it is, relative to the work directory (or a URL). */
  where?: string;
  detail?: string;
}

export interface StepRecord {
  id: StepId;
  cncf: string;
  title: string;
  status: 'ok' | 'refused' | 'reused' | 'skipped';
  evidence: Evidence[];
  commands: string[];
  ms: number;
}

/** What later steps need from earlier ones; kept in state.json so a kept run can be resumed. */
export interface DemoState {
  commit?: string;
  sourceDateEpoch?: number;
  digest?: string;
  backend?: 'softhsm' | 'file';
  tokens?: { attester: string; signer: string; reader: string };
  attestationIds?: Record<string, string>;
  provenance?: string;
  logIndex?: number;
  /** custody demo --keyless: the CI steps sign with certificates for their workload identity. */
  keyless?: boolean;
}

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface DemoContext {
  root: string;
  state: DemoState;
  attack: string | undefined;
  current: StepRecord | undefined;
  server: RunningServer | undefined;
  /** Extra environment for every child (SOFTHSM2_CONF, passphrases). */
  env: Record<string, string>;
}

export const path = (ctx: DemoContext, ...parts: string[]): string => join(ctx.root, ...parts);
export const rel = (ctx: DemoContext, p: string): string => (p.startsWith(ctx.root) ? relative(ctx.root, p) || '.' : p);

export function saveState(ctx: DemoContext): string {
  return `${JSON.stringify(ctx.state, null, 2)}\n`;
}

/** Runs a command; records it (with custody's path shortened) in the current step. */
export function exec(ctx: DemoContext, argv: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('empty command');
  const shown = argv
    .map((a) => (a === process.execPath ? 'node' : a === CUSTODY_JS ? 'custody' : a.startsWith(ctx.root) ? rel(ctx, a) : a.startsWith(PROJECT_ROOT) ? `$CUSTODY_HOME${a.slice(PROJECT_ROOT.length)}` : a))
    .map((a) => (/^[\w@%+=:,./$-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ')
    .replace(/^node custody /, 'custody ');
  ctx.current?.commands.push(`${options.cwd === undefined ? '' : `(cd ${rel(ctx, options.cwd)}) `}${shown}`);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd ?? ctx.root, env: { ...process.env, ...ctx.env, ...options.env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ status: code ?? (signal === null ? -1 : 128), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (options.input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** The last `custody: … [CODE]` line of a failed command: its code and message. */
export function custodyError(r: CommandResult): { code: string; message: string } {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('custody: '));
  const last = lines.at(-1);
  if (last === undefined) return { code: `EXIT_${r.status}`, message: (r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 500) || `exit status ${r.status}` };
  const m = /^custody: (.*) \[([A-Z0-9_]+)\]$/.exec(last);
  return m === null ? { code: `EXIT_${r.status}`, message: last.slice('custody: '.length) } : { code: m[2]!, message: m[1]! };
}

/** Runs custody; a non-zero exit becomes a StageFailure of the current step naming `artifact`. */
export async function custody(ctx: DemoContext, args: readonly string[], artifact: string, options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CommandResult> {
  const r = await exec(ctx, [process.execPath, CUSTODY_JS, ...args], options);
  if (r.status !== 0) {
    const { code, message } = custodyError(r);
    throw new StageFailure(ctx.current?.id ?? 'commit', code, artifact, message);
  }
  return r;
}

/** Runs a command that must succeed (git, ssh-keygen); failures are bugs of the demo, not catches. */
export async function must(ctx: DemoContext, argv: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await exec(ctx, argv, options);
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr.trim().slice(0, 400)}`);
  return r.stdout;
}

export function json<T>(r: CommandResult): T {
  return JSON.parse(r.stdout) as T;
}

/** custody run writes NAME.<keyid8>.link (DSSE with --dsse); attestation loaders read *.json. */
export function renameLinks(dir: string): void {
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.link')) continue;
    try {
      renameSync(join(dir, f), join(dir, `${f}.json`));
    } catch (e) {
      // A step running alongside renamed it first.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

export function statementOf(file: string): { subject: { name?: string; digest: Record<string, string> }[]; predicateType: string; predicate: Record<string, unknown> } {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { payload: string; dsseEnvelope?: { payload: string } };
  // A keyless attestation is a Sigstore bundle holding the envelope.
  const envelope = parsed.dsseEnvelope ?? parsed;
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as ReturnType<typeof statementOf>;
}

export function findFile(dir: string, test: (name: string) => boolean): string | undefined {
  if (!existsSync(dir)) return undefined;
  const name = readdirSync(dir).sort().find(test);
  return name === undefined ? undefined : join(dir, name);
}
