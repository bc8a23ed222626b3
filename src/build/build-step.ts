// Runs one build step and describes it twice: as an in-toto link (for layouts) and as SLSA
// Provenance v1 (for policies and rebuilders). Hermetic steps run in the bubblewrap sandbox;
// unsandboxed ones (--no-hermetic) say so in their provenance.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { InputError, digestSetOfBytes, type DigestSet, type ResourceDescriptor, type Statement } from '../core/index.ts';
import { makeLink, type ArtifactMap, type Link, type ProvenanceV1 } from '../formats/index.ts';
import { DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_WORKDIR, recordArtifacts, runCommand, runSandboxed, sandboxAvailable, type CommandResult, type RecordOptions, type SandboxInfo } from '../attest/index.ts';
import { HERMETIC_BUILDER_ID, UNSANDBOXED_BUILDER_ID, type RunExternalParameters, type RunInternalParameters, type RunSource } from './build-type.ts';
import { gitSource } from './git-source.ts';
import { npmLockDependencies } from './lockfile-deps.ts';
import { makeProvenance } from './provenance.ts';
import { describeTool, resolveCommand } from './toolchain.ts';

/** PATH inside the sandbox unless the step passes its own. */
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface BuildStepOptions {
  name: string;
  /** Directory the step runs in; materials and products are relative to it. */
  dir: string;
  materials: readonly string[];
  products: readonly string[];
  command: readonly string[];
  /** Variables passed to the step explicitly. */
  env: Readonly<Record<string, string>>;
  /** Toolchain paths (absolute), bound read-only into the sandbox and digested. */
  tools: readonly string[];
  hermetic: boolean;
  record?: Omit<RecordOptions, 'basePath' | 'cache'>;
  /** Sandbox variations (reprotest-style): where the files appear and which uid runs the step. */
  workdir?: string;
  uid?: number;
  /** Source to record when the directory is a checkout made for a rebuild. */
  source?: RunSource & { commitTime: number };
  /** Overrides the commit time (or 0 outside git) as SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
  builderId?: string;
  builderVersion?: Record<string, string>;
  timeoutMs?: number;
  passThrough?: boolean;
}

export interface BuildStepResult {
  link: Link;
  /** Absent when the step made no products (provenance needs at least one subject). */
  provenance?: Statement<ProvenanceV1>;
  returnValue: number;
  stdout: string;
  stderr: string;
}

function descriptors(map: ArtifactMap): ResourceDescriptor[] {
  return Object.keys(map).map((name) => ({ name, digest: { ...(map[name] as DigestSet) } }));
}

function stepSource(options: BuildStepOptions): (RunSource & { commitTime: number; dirty?: boolean }) | undefined {
  if (options.source !== undefined) return options.source;
  const git = gitSource(options.dir);
  if (git === undefined) return undefined;
  return { uri: git.uri, commit: git.commit, path: git.path, commitTime: git.commitTime, dirty: git.dirty };
}

/** Only the defined optional fields (exactOptionalPropertyTypes). */
function runLimits(options: BuildStepOptions): { timeoutMs?: number; passThrough?: boolean } {
  return {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.passThrough === undefined ? {} : { passThrough: options.passThrough }),
  };
}

interface Prepared {
  dir: string;
  sandbox: SandboxInfo | undefined;
  source: (RunSource & { commitTime: number; dirty?: boolean }) | undefined;
  sourceDateEpoch: number;
  env: Record<string, string>;
  workdir: string;
  uid: number;
}

function execute(options: BuildStepOptions, p: Prepared): Promise<CommandResult> {
  if (p.sandbox !== undefined) {
    return runSandboxed({ hostDir: p.dir, inputs: options.materials, outputs: options.products, tools: options.tools, env: p.env, command: options.command, workdir: p.workdir, uid: p.uid, ...runLimits(options) });
  }
  // Unsandboxed: the caller's environment plus the passed variables (`env` sets them without a shell).
  const assignments = Object.entries({ SOURCE_DATE_EPOCH: String(p.sourceDateEpoch), ...options.env }).map(([k, v]) => `${k}=${v}`);
  return runCommand(['env', ...assignments, ...options.command], { cwd: p.dir, ...runLimits(options) });
}

async function resolvedDependencies(options: BuildStepOptions, p: Prepared, materials: ArtifactMap): Promise<ResourceDescriptor[]> {
  const deps: ResourceDescriptor[] = [];
  if (p.source !== undefined) deps.push({ uri: p.source.uri, digest: { gitCommit: p.source.commit }, annotations: { path: p.source.path } });
  deps.push(...descriptors(materials));
  deps.push(...npmLockDependencies(p.dir));
  // Toolchain: the command's own binary (as PATH resolves it) and every declared tool.
  const commandPath = resolveCommand(options.command[0]!, p.sandbox === undefined ? (process.env['PATH'] ?? '') : (p.env['PATH'] ?? SANDBOX_PATH));
  const covered = commandPath === undefined || options.tools.some((t) => commandPath.startsWith(t));
  for (const tool of [...(covered ? [] : [commandPath]), ...options.tools]) deps.push(await describeTool(tool));
  return deps;
}

function parameters(options: BuildStepOptions, p: Prepared): { external: RunExternalParameters; internal: RunInternalParameters } {
  const external: RunExternalParameters = {
    step: options.name,
    command: [...options.command],
    ...(p.source === undefined ? {} : { source: { uri: p.source.uri, commit: p.source.commit, path: p.source.path } }),
    materials: [...options.materials],
    products: [...options.products],
    env: { ...options.env },
    tools: [...options.tools],
    hermetic: p.sandbox !== undefined,
  };
  const internal: RunInternalParameters = {
    sourceDateEpoch: p.sourceDateEpoch,
    ...(p.source?.dirty === true ? { dirty: true } : {}),
    ...(p.sandbox === undefined ? {} : { sandbox: { kind: 'bubblewrap' as const, version: p.sandbox.version, workdir: p.workdir, uid: p.uid, network: false as const } }),
  };
  return { external, internal };
}

function prepare(options: BuildStepOptions): Prepared {
  if (options.command.length === 0) throw new InputError('USAGE', 'a build step needs a command');
  const sandbox = options.hermetic ? sandboxAvailable() : undefined;
  const source = stepSource(options);
  const sourceDateEpoch = options.sourceDateEpoch ?? source?.commitTime ?? 0;
  return {
    dir: resolve(options.dir),
    sandbox,
    source,
    sourceDateEpoch,
    env: { PATH: SANDBOX_PATH, LANG: 'C.UTF-8', TZ: 'UTC', SOURCE_DATE_EPOCH: String(sourceDateEpoch), ...options.env },
    workdir: options.workdir ?? DEFAULT_SANDBOX_WORKDIR,
    uid: options.uid ?? DEFAULT_SANDBOX_UID,
  };
}

export async function runBuildStep(options: BuildStepOptions): Promise<BuildStepResult> {
  const p = prepare(options);
  const record = { ...options.record, basePath: p.dir };
  const startedOn = new Date();
  const materials = await recordArtifacts(options.materials, record);
  const result = await execute(options, p);
  const products = await recordArtifacts(options.products, record);
  const finishedOn = new Date();
  const link = makeLink({
    name: options.name,
    materials,
    products,
    command: [...options.command],
    byproducts: { stdout: result.stdout, stderr: result.stderr, 'return-value': result.returnValue },
    environment: {},
  });
  const outcome = { link, returnValue: result.returnValue, stdout: result.stdout, stderr: result.stderr };
  const subjects = descriptors(products);
  // A step without products has a link but no provenance: a Statement needs a subject.
  if (subjects.length === 0) return outcome;
  const { external, internal } = parameters(options, p);
  const provenance = makeProvenance({
    subjects,
    external,
    internal,
    resolvedDependencies: await resolvedDependencies(options, p, materials),
    builderId: options.builderId ?? (p.sandbox === undefined ? UNSANDBOXED_BUILDER_ID : HERMETIC_BUILDER_ID),
    builderVersion: { ...options.builderVersion, ...(p.sandbox === undefined ? {} : { bubblewrap: p.sandbox.version }) },
    invocationId: `urn:uuid:${randomUUID()}`,
    startedOn,
    finishedOn,
    byproducts: [
      { name: 'stdout', digest: digestSetOfBytes(result.stdout), mediaType: 'text/plain' },
      { name: 'stderr', digest: digestSetOfBytes(result.stderr), mediaType: 'text/plain' },
    ],
  });
  return { ...outcome, provenance };
}
