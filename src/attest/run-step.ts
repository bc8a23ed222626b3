// Running one supply-chain step the way in-toto-run does: record materials, run the command with
// its output passed through and captured, record products, and describe it all as a link (v0.9)
// or as a link v0.3 Statement. Signing and writing files are left to the caller.
import { spawn } from 'node:child_process';
import {
  InputError,
  STATEMENT_TYPE_V1,
  type DigestSet,
  type Statement,
} from '../core/index.ts';
import { makeLink, type ArtifactMap, type JsonObject, type Link } from '../formats/index.ts';
import { recordArtifacts, type RecordOptions, type StatCache } from './tree-hasher.ts';

export const LINK_PREDICATE_V03 = 'https://in-toto.io/attestation/link/v0.3';

export interface CommandResult {
  stdout: string;
  stderr: string;
  returnValue: number;
}

export interface RunCommandOptions {
  /** Copy the command's output to ours while capturing it (default true). */
  passThrough?: boolean;
  cwd?: string;
  /** Kill the command after this many milliseconds (no limit by default). */
  timeoutMs?: number;
}

/**
 * Runs a command without a shell, stdin inherited, stdout/stderr teed. A command that cannot be
 * started is an input error; one that starts and fails is a result with its exit code (signals map
 * to 128 + n, as a shell reports them).
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined || file === '') return Promise.reject(new InputError('USAGE', 'no command given to run'));
  const passThrough = options.passThrough ?? true;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      stdio: ['inherit', 'pipe', 'pipe'],
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (passThrough) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      if (passThrough) process.stderr.write(chunk);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new InputError('USAGE', `cannot run '${file}': ${e.code === 'ENOENT' ? 'command not found' : (e.code ?? e.message)}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      const signalNumber = signal === null ? 0 : ((SIGNALS as Record<string, number>)[signal] ?? 0);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        returnValue: code ?? 128 + signalNumber,
      });
    });
  });
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export interface StepOptions {
  name: string;
  materials: readonly string[];
  products: readonly string[];
  /** The command and its arguments; empty records the step without running anything (in-toto-run -x). */
  command: readonly string[];
  record: Omit<RecordOptions, 'cache'>;
  /** Environment variables to record, by name (an allowlist: nothing else is captured). */
  environmentAllowlist?: readonly string[];
  /** Record the working directory as environment.workdir (in-toto-run --record-environment). */
  recordWorkdir?: boolean;
  /** Capture stdout/stderr into the byproducts (in-toto-run -s); output is passed through either way. */
  recordStreams?: boolean;
  timeoutMs?: number;
}

export interface StepResult {
  link: Link;
  /** The command's exit code (0 when no command ran). */
  returnValue: number;
}

function captureEnvironment(options: StepOptions): JsonObject {
  const environment: JsonObject = {};
  if (options.recordWorkdir === true) environment['workdir'] = process.cwd().replace(/\\/g, '/');
  for (const name of options.environmentAllowlist ?? []) {
    const value = process.env[name];
    if (value !== undefined) environment[name] = value;
  }
  return environment;
}

/** in-toto runlib.in_toto_run without the signing: materials → command → products → link. */
export async function runStep(options: StepOptions, cache?: StatCache): Promise<StepResult> {
  const record = cache === undefined ? options.record : { ...options.record, cache };
  const materials = await recordArtifacts(options.materials, record);
  let byproducts: JsonObject = {};
  let returnValue = 0;
  if (options.command.length > 0) {
    const result = await runCommand(options.command, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    returnValue = result.returnValue;
    const streams = options.recordStreams !== false;
    byproducts = { stdout: streams ? result.stdout : '', stderr: streams ? result.stderr : '', 'return-value': result.returnValue };
  }
  const products = await recordArtifacts(options.products, record);
  const link = makeLink({
    name: options.name,
    materials,
    products,
    command: [...options.command],
    byproducts,
    environment: captureEnvironment(options),
  });
  return { link, returnValue };
}

function descriptors(map: ArtifactMap): { name: string; digest: DigestSet }[] {
  return Object.keys(map).map((name) => ({ name, digest: { ...(map[name] as DigestSet) } }));
}

/**
 * The link as an in-toto Statement with predicate link v0.3: subjects are the products, the
 * predicate holds name, command, materials (as resource descriptors), byproducts and environment.
 */
export function linkToStatement(link: Link): Statement {
  const subject = descriptors(link.products);
  if (subject.length === 0) {
    throw new InputError('USAGE', `step '${link.name}' recorded no products: a link v0.3 statement needs at least one subject (record products with -p, or write a v0.9 link without --dsse)`);
  }
  return {
    _type: STATEMENT_TYPE_V1,
    subject,
    predicateType: LINK_PREDICATE_V03,
    predicate: {
      name: link.name,
      command: [...link.command],
      materials: descriptors(link.materials),
      byproducts: link.byproducts,
      environment: link.environment,
    },
  };
}
