// `custody run --provenance` / `--hermetic`: the build-step path of `custody run` (issue 9). Runs
// the step (sandboxed unless --no-hermetic), writes the signed link as usual and, with
// --provenance, a signed SLSA Provenance v1 statement next to it. With --keyless both are Sigstore
// bundles signed for the step's workload identity (NAME.keyless.sigstore, NAME.keyless.provenance.sigstore).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE, InputError, shortKeyId, signEnvelope, type PrivateKey, type Signer, type Statement } from '../core/index.ts';
import { runBuildStep } from '../build/index.ts';
import { output, writeFileAtomic, type CommonOptions } from './io.ts';
import { recordOptionsFrom, writeSignedLink, type ArtifactFlags } from './step-options.ts';
import { linkToStatement, progressReporter } from '../attest/index.ts';
import { writeKeylessStatement, type KeylessFlags } from './keyless-options.ts';

export interface BuildRunFlags {
  provenance?: boolean;
  /** true: --hermetic, false: --no-hermetic, undefined: neither (hermetic when --provenance). */
  hermetic?: boolean;
  tool?: string[];
  passEnv?: string[];
  builderId?: string;
}

export function custodyVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** NAME=VALUE passes that value; NAME alone passes the caller's value of NAME (which must be set). */
export function parsePassEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InputError('USAGE', `--pass-env '${entry}': not a variable name`);
    const value = eq < 0 ? process.env[name] : entry.slice(eq + 1);
    if (value === undefined) throw new InputError('USAGE', `--pass-env ${name}: the variable is not set`);
    env[name] = value;
  }
  return env;
}

/** Signs a statement as a DSSE envelope and writes it atomically. */
export async function writeSignedStatement(statement: Statement<unknown>, signer: Signer, path: string): Promise<void> {
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), [signer]);
  writeFileAtomic(path, `${JSON.stringify(envelope)}\n`);
}

export function provenanceFileName(step: string, keyid: string): string {
  return `${step}.${shortKeyId(keyid)}.provenance.json`;
}

export interface BuildRunInput {
  name: string;
  command: string[];
  materials: string[];
  products: string[];
  /** The signing key, or keyless: an ephemeral key certified for the step's workload identity. */
  key: PrivateKey | { keyless: KeylessFlags };
  outDir: string;
  record: NonNullable<Parameters<typeof runBuildStep>[0]['record']>;
  timeoutMs?: number;
  /** Write the link as a DSSE link v0.3 statement (--dsse). */
  dsse?: boolean;
}

/** `custody run` takes the build path when --provenance, --hermetic or --no-hermetic is given. */
export function isBuildRun(flags: BuildRunFlags): boolean {
  return flags.provenance === true || flags.hermetic !== undefined;
}

/** The `custody run` flags the build path reads. */
export interface RunFlagsForBuild extends BuildRunFlags, ArtifactFlags, CommonOptions {
  step: string;
  materials?: string[];
  products?: string[];
  out: string;
  dsse?: boolean;
}

export function runBuildFromFlags(command: string[], flags: RunFlagsForBuild, key: BuildRunInput['key'], timeoutMs: number | undefined): Promise<void> {
  const record = recordOptionsFrom(flags, flags.json === true ? undefined : progressReporter());
  return runBuildAndReport(
    { name: flags.step, command, materials: flags.materials ?? [], products: flags.products ?? [], key, outDir: flags.out, record, dsse: flags.dsse === true, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    flags,
  );
}

/** Runs the build step, writes link and provenance, prints the result, sets the exit code. */
export async function runBuildAndReport(input: BuildRunInput, flags: BuildRunFlags & CommonOptions): Promise<void> {
  const built = await runBuild(input, flags);
  const key = input.key;
  let linkPath: string;
  let signedBy: { keyid: string } | { identity: string; issuer: string; logIndex: number; format: 'sigstore-dsse' };
  if ('keyless' in key) {
    const link = await writeKeylessStatement(linkToStatement(built.link), join(input.outDir, `${built.link.name}.keyless.sigstore`), key.keyless);
    linkPath = link.path;
    signedBy = { identity: link.identity, issuer: link.issuer, logIndex: link.logIndex, format: 'sigstore-dsse' };
  } else {
    linkPath = await writeSignedLink(built.link, key, input.outDir, input.dsse === true);
    signedBy = { keyid: key.publicKey.keyid };
  }
  output(
    flags,
    { link: linkPath, provenance: built.provenancePath ?? null, hermetic: built.hermetic, step: built.link.name, ...signedBy, returnValue: built.returnValue },
    `custody run: wrote ${linkPath}${built.provenancePath === undefined ? '' : ` and ${built.provenancePath}`} (${built.hermetic ? 'hermetic' : 'unsandboxed'}${'identity' in signedBy ? `, keyless as ${signedBy.identity}` : ''}, command exited ${built.returnValue})`,
  );
  // A failing command still gets its link (and provenance); custody then exits with its code.
  if (built.returnValue !== 0) process.exitCode = built.returnValue;
}

export async function runBuild(input: BuildRunInput, flags: BuildRunFlags): Promise<{ link: Awaited<ReturnType<typeof runBuildStep>>['link']; returnValue: number; provenancePath?: string; hermetic: boolean }> {
  const hermetic = flags.hermetic ?? true;
  const result = await runBuildStep({
    name: input.name,
    dir: process.cwd(),
    materials: input.materials,
    products: input.products,
    command: input.command,
    env: parsePassEnv(flags.passEnv ?? []),
    tools: flags.tool ?? [],
    hermetic,
    record: input.record,
    builderVersion: { custody: custodyVersion() },
    ...(flags.builderId === undefined ? {} : { builderId: flags.builderId }),
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
  });
  mkdirSync(input.outDir, { recursive: true });
  if (flags.provenance !== true) return { link: result.link, returnValue: result.returnValue, hermetic };
  if (result.provenance === undefined) {
    throw new InputError('USAGE', `step '${input.name}' recorded no products: provenance needs at least one subject (declare products with -p)`);
  }
  const key = input.key;
  let provenancePath: string;
  if ('keyless' in key) {
    provenancePath = (await writeKeylessStatement(result.provenance, join(input.outDir, `${input.name}.keyless.provenance.sigstore`), key.keyless)).path;
  } else {
    const signer = key.signer();
    provenancePath = join(input.outDir, provenanceFileName(input.name, signer.keyid));
    await writeSignedStatement(result.provenance, signer, provenancePath);
  }
  return { link: result.link, returnValue: result.returnValue, provenancePath, hermetic };
}
