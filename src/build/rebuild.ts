// Verified reproducible rebuilds: re-run a step from its SLSA provenance in a fresh hermetic
// sandbox on a clean checkout, compare every subject digest, and summarise the outcome as a SLSA
// VSA v1. On a mismatch diffoscope explains the differing bytes; its reports become byproducts of
// the rebuild's own provenance.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  canonicalJson,
  decodeBase64,
  digestBytes,
  digestFile,
  digestSetOfBytes,
  digestSetsMatch,
  encodeBase64,
  makeStatement,
  parseEnvelope,
  parseJson,
  parseStatement,
  type DigestSet,
  type Envelope,
  type ResourceDescriptor,
  type Statement,
} from '../core/index.ts';
import { SLSA_PROVENANCE_V1, SLSA_VSA_V1, makeVsaPredicate, parseProvenanceV1, type ArtifactMap, type ProvenanceV1, type VsaPredicateV1 } from '../formats/index.ts';
import { BUILD_TYPE_RUN_V1, parseRunExternalParameters, parseRunInternalParameters, type RunExternalParameters, type RunInternalParameters } from './build-type.ts';
import { runBuildStep } from './build-step.ts';
import { runDiffoscope } from './diffoscope.ts';
import { checkoutCommit, gitSource } from './git-source.ts';

export const REBUILDER_ID = 'https://custody.dev/rebuilder/v1';
export const REBUILD_POLICY_URI = 'https://custody.dev/build/rebuild-policy/v1';
/** The rule a rebuilder applies; the VSA names it by the digest of this document's canonical JSON. */
export const REBUILD_POLICY = {
  _type: REBUILD_POLICY_URI,
  rule: 'every subject of the provenance is reproduced bit for bit: a hermetic rebuild of the recorded step from a clean checkout of the recorded source yields, under the same name, a product with the same digest',
} as const;
/** verifiedLevels of a passing rebuild (vsa.md: custom values must not start with SLSA_). */
export const REPRODUCED_LEVEL = 'CUSTODY_REPRODUCIBLE';
/** diffoscope text reports up to this size are embedded (base64 `content`) in the byproduct. */
const INLINE_REPORT_BYTES = 256 * 1024;

export interface ProvenanceToRebuild {
  envelope: Envelope;
  statement: Statement<ProvenanceV1>;
  external: RunExternalParameters;
  internal: RunInternalParameters;
  /** sha256 of the envelope's bytes as given. */
  digest: DigestSet;
}

/** Reads a DSSE envelope of a custody-run SLSA provenance (signatures are the caller's business). */
export function readProvenanceEnvelope(bytes: Uint8Array, what = 'provenance'): ProvenanceToRebuild {
  const envelope = parseEnvelope(parseJson(Buffer.from(bytes).toString('utf8'), what));
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new InputError('ENVELOPE_INVALID', `${what}: payloadType is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const statement = parseStatement(parseJson(Buffer.from(decodeBase64(envelope.payload, `${what} payload`)).toString('utf8'), `${what} statement`));
  if (statement.predicateType !== SLSA_PROVENANCE_V1) throw new InputError('PREDICATE_INVALID', `${what}: predicateType is ${statement.predicateType}, not ${SLSA_PROVENANCE_V1}`);
  const predicate = parseProvenanceV1(statement.predicate, `${what} predicate`);
  if (predicate.buildDefinition.buildType !== BUILD_TYPE_RUN_V1) {
    throw new InputError('PREDICATE_INVALID', `${what}: buildType ${predicate.buildDefinition.buildType} cannot be rebuilt here (only ${BUILD_TYPE_RUN_V1})`);
  }
  return {
    envelope,
    statement: { ...statement, predicate },
    external: parseRunExternalParameters(predicate.buildDefinition.externalParameters),
    internal: parseRunInternalParameters(predicate.buildDefinition.internalParameters ?? {}),
    digest: digestSetOfBytes(bytes),
  };
}

export type RebuildSource = { dir: string } | { git: string; commit?: string } | { recorded: true };

export interface RebuildOptions {
  provenance: ProvenanceToRebuild;
  /** Name of the provenance for inputAttestations (a file name or URL). */
  provenanceUri: string;
  source: RebuildSource;
  /** Rebuilt products, diffoscope reports and the checkout's copy go here. */
  outDir: string;
  /** Where the original artifacts are (by subject name) for diffoscope; default: a source directory. */
  originalsDir?: string;
  verifierId?: string;
  verifierVersion?: Record<string, string>;
  resourceUri?: string;
  /** Only bind recorded tools under these paths, which override FORBIDDEN_TOOL_ROOTS (default: any path outside them). */
  allowedToolPrefixes?: readonly string[];
  /** Sandbox variations (reprotest-style). */
  uid?: number;
  workdir?: string;
  timeoutMs?: number;
  passThrough?: boolean;
  now?: () => Date;
}

export interface SubjectComparison {
  name: string;
  expected: DigestSet;
  /** Digest of the rebuilt product of that name; absent when the rebuild did not make it. */
  actual?: DigestSet;
  matches: boolean;
  /** diffoscope reports (paths in outDir) when it differed and the original was found. */
  report?: { text: string; html: string };
}

export interface RebuildResult {
  passed: boolean;
  subjects: SubjectComparison[];
  /** The rebuild's exit code. */
  returnValue: number;
  vsa: Statement<VsaPredicateV1>;
  /** Provenance of the rebuild itself, with the diffoscope reports as byproducts (absent when it made nothing). */
  rebuildProvenance?: Statement<ProvenanceV1>;
}

/** The digest of the rebuild policy (canonical JSON, sha256). */
export function rebuildPolicyDigest(): DigestSet {
  return { sha256: digestBytes(canonicalJson(REBUILD_POLICY), 'sha256') };
}

function prepareCheckout(target: ProvenanceToRebuild, source: RebuildSource, dest: string): { commitTime?: number; copied?: boolean } {
  const recorded = target.external.source;
  if ('git' in source || 'recorded' in source) {
    const url = 'git' in source ? source.git : recorded?.uri;
    const commit = ('git' in source ? source.commit : undefined) ?? recorded?.commit;
    if (url === undefined || commit === undefined) throw new InputError('USAGE', 'the provenance records no git source: pass --source DIR, or --git URL --commit C');
    checkoutCommit(url, commit, dest);
    return { commitTime: gitSource(dest)?.commitTime ?? target.internal.sourceDateEpoch };
  }
  const dir = resolve(source.dir);
  const git = gitSource(dir);
  if (git !== undefined) {
    // A clean checkout of the recorded commit from the given repository: local edits never leak in.
    const top = resolve(dir, git.path.split('/').map(() => '..').join('/') || '.');
    checkoutCommit(git.path === '.' ? dir : top, recorded?.commit ?? git.commit, dest);
    return { commitTime: gitSource(dest)?.commitTime ?? target.internal.sourceDateEpoch };
  }
  // Not a repository: a copy without version-control metadata, the step's products removed below.
  cpSync(dir, dest, { recursive: true, filter: (p) => !p.split('/').includes('.git') });
  return { copied: true };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

async function findOriginal(dirs: readonly string[], name: string, expected: DigestSet): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (!existsSync(candidate)) continue;
    const digest = await digestFile(candidate, ['sha256']);
    if (digestSetsMatch(expected, digest)) return candidate;
  }
  return undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

// Toolchain paths a provenance may never make a rebuilder bind into its sandbox: they hold the
// rebuilder's own secrets and host state, which a hostile build could fold into its products.
const FORBIDDEN_TOOL_ROOTS = ['/root', '/home', '/etc', '/proc', '/sys', '/dev', '/run', '/var', '/tmp', '/boot'];

/** The recorded tools, if this rebuilder accepts them (within allowedToolPrefixes, outside FORBIDDEN_TOOL_ROOTS). */
export function checkRecordedTools(tools: readonly string[], allowedPrefixes?: readonly string[]): void {
  for (const tool of tools) {
    let real: string;
    try {
      real = realpathSync(tool);
    } catch (e) {
      throw new InputError('FILE_UNREADABLE', `the provenance needs tool ${tool}, which this rebuilder does not have`, { cause: e });
    }
    const under = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
    if (allowedPrefixes !== undefined) {
      // The operator named the tool paths: only those, and they override the built-in refusals.
      if (!allowedPrefixes.some((p) => under(tool, p) && under(real, p))) {
        throw new InputError('PATH_INVALID', `tool ${tool} is outside the allowed tool paths (${allowedPrefixes.join(', ')})`);
      }
      continue;
    }
    if (FORBIDDEN_TOOL_ROOTS.some((root) => under(real, root) || under(tool, root))) {
      throw new InputError(
        'PATH_INVALID',
        `the provenance asks to bind ${tool} into the sandbox; without --allow-tool a rebuilder never exposes ${FORBIDDEN_TOOL_ROOTS.join(', ')}`,
      );
    }
  }
}

/** Re-runs the recorded step hermetically in the checkout. */
function rerun(options: RebuildOptions, stepDir: string, commitTime: number | undefined, verifierId: string): ReturnType<typeof runBuildStep> {
  const { external, internal } = options.provenance;
  checkRecordedTools(external.tools, options.allowedToolPrefixes);
  const epoch = commitTime ?? internal.sourceDateEpoch;
  return runBuildStep({
    name: external.step,
    dir: stepDir,
    materials: external.materials,
    products: external.products,
    command: external.command,
    env: external.env,
    tools: external.tools,
    hermetic: true,
    ...(external.source === undefined ? {} : { source: { ...external.source, commitTime: epoch } }),
    sourceDateEpoch: epoch,
    builderId: verifierId,
    ...optional('builderVersion', options.verifierVersion),
    ...optional('uid', options.uid),
    ...optional('workdir', options.workdir),
    ...optional('timeoutMs', options.timeoutMs),
    ...optional('passThrough', options.passThrough),
  });
}

/** Compares one subject with the rebuilt product of that name; keeps the rebuilt bytes; diffoscope on a mismatch. */
async function compareSubject(
  subject: ResourceDescriptor,
  rebuilt: ArtifactMap,
  ctx: { stepDir: string; outDir: string; originals: readonly string[]; timeoutMs?: number },
  byproducts: ResourceDescriptor[],
): Promise<SubjectComparison> {
  const name = subject.name ?? subject.uri ?? '';
  const expected = subject.digest ?? {};
  const actual = rebuilt[name];
  const matches = actual !== undefined && digestSetsMatch(expected, actual);
  const comparison: SubjectComparison = { name, expected, matches, ...(actual === undefined ? {} : { actual: { ...actual } }) };
  if (actual === undefined) return comparison;
  // Keep the rebuilt bytes next to the reports, so the difference can be inspected later.
  const kept = join(ctx.outDir, 'rebuilt', name);
  mkdirSync(dirname(kept), { recursive: true });
  cpSync(join(ctx.stepDir, name), kept);
  if (matches) return comparison;
  const original = await findOriginal(ctx.originals, name, expected);
  if (original === undefined) return comparison;
  const report = await runDiffoscope(original, kept, ctx.outDir, safeName(name), ctx.timeoutMs);
  comparison.report = { text: report.textPath, html: report.htmlPath };
  const textBytes = readFileSync(report.textPath);
  byproducts.push({
    name: `${name}.diffoscope.txt`,
    uri: `file:${report.textPath.slice(ctx.outDir.length + 1)}`,
    digest: digestSetOfBytes(textBytes),
    mediaType: 'text/plain',
    ...(textBytes.length <= INLINE_REPORT_BYTES ? { content: encodeBase64(textBytes) } : {}),
  });
  byproducts.push({ name: `${name}.diffoscope.html`, uri: `file:${report.htmlPath.slice(ctx.outDir.length + 1)}`, digest: digestSetOfBytes(readFileSync(report.htmlPath)), mediaType: 'text/html' });
  return comparison;
}

function rebuildVsa(options: RebuildOptions, verifierId: string, passed: boolean, now: Date): Statement<VsaPredicateV1> {
  const { provenance } = options;
  const recorded = provenance.external.source;
  const predicate = makeVsaPredicate({
    verifierId,
    ...optional('verifierVersion', options.verifierVersion),
    timeVerified: now,
    resourceUri: options.resourceUri ?? (recorded === undefined ? options.provenanceUri : `${recorded.uri}@${recorded.commit}`),
    policy: { uri: REBUILD_POLICY_URI, digest: rebuildPolicyDigest() },
    inputAttestations: [{ uri: options.provenanceUri, digest: provenance.digest }],
    passed,
    verifiedLevels: passed ? [REPRODUCED_LEVEL] : ['FAILED'],
  });
  return makeStatement(provenance.statement.subject.map((s) => ({ ...s })), SLSA_VSA_V1, predicate);
}

export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  const { provenance } = options;
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'custody-rebuild-'));
  try {
    const checkout = join(work, 'src');
    const { commitTime, copied } = prepareCheckout(provenance, options.source, checkout);
    // A copied directory is the step's directory itself; a checkout is the repository's top level.
    const stepDir = copied === true ? checkout : join(checkout, provenance.external.source?.path ?? '.');
    // Products never come from the checkout: the rebuild must make them.
    for (const p of provenance.external.products) rmSync(resolve(stepDir, p), { recursive: true, force: true });
    const verifierId = options.verifierId ?? REBUILDER_ID;
    const step = await rerun(options, stepDir, commitTime, verifierId);
    const originals = options.originalsDir !== undefined ? [resolve(options.originalsDir)] : 'dir' in options.source ? [resolve(options.source.dir)] : [];
    const byproducts: ResourceDescriptor[] = [...(step.provenance?.predicate.runDetails.byproducts ?? [])];
    const ctx = { stepDir, outDir, originals, ...optional('timeoutMs', options.timeoutMs) };
    const subjects: SubjectComparison[] = [];
    for (const subject of provenance.statement.subject) subjects.push(await compareSubject(subject, step.link.products, ctx, byproducts));
    const passed = step.returnValue === 0 && subjects.length > 0 && subjects.every((s) => s.matches);
    const result: RebuildResult = { passed, subjects, returnValue: step.returnValue, vsa: rebuildVsa(options, verifierId, passed, (options.now ?? (() => new Date()))()) };
    const own = step.provenance;
    if (own !== undefined) result.rebuildProvenance = { ...own, predicate: { ...own.predicate, runDetails: { ...own.predicate.runDetails, byproducts } } };
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
