// The build type of `custody run` steps, https://custody.dev/build/run/v1: what its external and
// internal parameters hold (schema: docs/schemas/custody-build-run-v1.schema.json), and the strict
// reader a rebuilder uses to re-run a step from someone else's provenance.
import { InputError } from '../core/index.ts';

export const BUILD_TYPE_RUN_V1 = 'https://custody.dev/build/run/v1';
export const BUILD_TYPE_SCHEMA_URI = 'https://custody.dev/schemas/custody-build-run-v1.schema.json';
/** builder.id of a step run in custody's bubblewrap sandbox. */
export const HERMETIC_BUILDER_ID = 'https://custody.dev/builder/hermetic/v1';
/** builder.id of a step run without a sandbox (--no-hermetic): nothing isolates it. */
export const UNSANDBOXED_BUILDER_ID = 'https://custody.dev/builder/unsandboxed/v1';

export interface RunSource {
  /** `git+<repository URL>` */
  uri: string;
  commit: string;
  /** The step's directory inside the repository. */
  path: string;
}

/** externalParameters: everything a user chose, so a rebuilder can run the same step. */
export interface RunExternalParameters {
  step: string;
  command: string[];
  source?: RunSource;
  materials: string[];
  products: string[];
  /** Variables passed into the step explicitly (the only environment a hermetic step has). */
  env: Record<string, string>;
  /** Toolchain paths bound read-only into the sandbox. */
  tools: string[];
  hermetic: boolean;
  [extension: string]: unknown;
}

/** internalParameters: how the builder ran it. */
export interface RunInternalParameters {
  sourceDateEpoch: number;
  /** The work tree had uncommitted changes (the build did not run from the commit alone). */
  dirty?: boolean;
  sandbox?: { kind: 'bubblewrap'; version: string; workdir: string; uid: number; network: false };
  [extension: string]: unknown;
}

function fail(message: string): never {
  throw new InputError('PREDICATE_INVALID', `${BUILD_TYPE_RUN_V1} externalParameters: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(o: Record<string, unknown>, field: string): string[] {
  const v = o[field];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`'${field}' must be a list of strings`);
  return v;
}

/** Strictly reads the external parameters of a provenance with this build type. */
export function parseRunExternalParameters(json: unknown): RunExternalParameters {
  if (!isRecord(json)) fail('not an object');
  const step = json['step'];
  if (typeof step !== 'string' || step === '') fail("'step' must be a non-empty string");
  const command = stringArray(json, 'command');
  if (command.length === 0) fail("'command' must not be empty");
  const env = json['env'];
  if (!isRecord(env) || !Object.values(env).every((v) => typeof v === 'string')) fail("'env' must map names to strings");
  if (typeof json['hermetic'] !== 'boolean') fail("'hermetic' must be a boolean");
  const out: RunExternalParameters = {
    ...json,
    step,
    command,
    materials: stringArray(json, 'materials'),
    products: stringArray(json, 'products'),
    env: env as Record<string, string>,
    tools: stringArray(json, 'tools'),
    hermetic: json['hermetic'],
  };
  const source = json['source'];
  if (source !== undefined) {
    if (!isRecord(source)) fail("'source' must be an object");
    const { uri, commit, path } = source;
    if (typeof uri !== 'string' || !uri.startsWith('git+')) fail("'source.uri' must be a git+ URI");
    if (typeof commit !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) fail("'source.commit' must be a full commit id");
    if (typeof path !== 'string' || path.startsWith('/') || path.split('/').includes('..')) fail("'source.path' must be a relative path inside the repository");
    out.source = { uri, commit, path };
  }
  return out;
}

export function parseRunInternalParameters(json: unknown): RunInternalParameters {
  if (!isRecord(json)) fail('internalParameters is not an object');
  const epoch = json['sourceDateEpoch'];
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) fail("'sourceDateEpoch' must be a non-negative integer");
  return { ...json, sourceDateEpoch: epoch };
}
