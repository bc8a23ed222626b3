// custody verify --policy: reads a (signed) attestation policy, the subject and an attestation
// directory, calls policy.evaluatePolicy, prints a result per step and rule with every failure, and
// optionally writes a signed SLSA VSA. The lead merges these options into `custody verify`.
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  PolicyError,
  digestFile,
  digestSetOfBytes,
  parseEnvelope,
  parseJson,
  signEnvelope,
  type DigestSet,
} from '../core/index.ts';
import { loadPrivateKeyFile, loadPublicKeyFile } from '../keys/index.ts';
import {
  evaluatePolicy,
  makeVsa,
  policyInputFromBytes,
  type AttestationInput,
  type PolicyInput,
  type Verdict,
} from '../policy/index.ts';
import { collect, parsePositiveInt, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';
import type { KeylessFlags, KeylessWritten } from './keyless-options.ts';

export interface PolicyVerifyOptions extends CommonOptions, KeylessFlags {
  policy: string;
  policyKey?: string[];
  policyThreshold?: number;
  allowUnsignedPolicy?: boolean;
  subject: string;
  attestations?: string;
  /** Fetch attestations from this custody server (the subject's provenance graph). */
  server?: string;
  depth?: number;
  vsaKey?: string;
  /** Sign the VSA keylessly (a Sigstore bundle at --vsa-out); the CA is $CUSTODY_SERVER or --server. */
  vsaKeyless?: boolean;
  vsaOut?: string;
  passphraseEnv?: string;
  verifierId?: string;
  resourceUri?: string;
  /** Evaluation time (RFC 3339), for re-verifying old evidence; default: now. */
  at?: string;
  /** Sigstore trusted_root.json verifying keyless attestations (certificate-identity functionaries). */
  trustedRoot?: string;
}

export interface PolicyVerifyResult {
  readonly verdict: Verdict;
  /** Files in the attestation directory that are not DSSE envelopes (skipped). */
  readonly skipped: readonly string[];
  /** With --vsa-keyless: where the VSA bundle went and the identity it was signed for. */
  readonly vsa?: KeylessWritten;
}

export const DEFAULT_VERIFIER_ID = 'https://custody.dev/verifier/policy/v1';
// Bounds on what the directory may make us read: attestation files are small.
const MAX_ATTESTATION_FILE_BYTES = 32 * 1024 * 1024;
const MAX_ATTESTATION_FILES = 100_000;

/** Adds the policy-mode options to a command (`custody verify`). */
export function addPolicyVerifyOptions(command: Command): Command {
  return command
    .addOption(new Option('--policy <file>', 'attestation policy: a DSSE envelope signed by its owners (or YAML/JSON with --allow-unsigned-policy)'))
    .addOption(new Option('--policy-key <file>', 'public key of a policy owner; repeat for several').argParser(collect))
    .addOption(new Option('--policy-threshold <n>', 'distinct owner keys that must have signed the policy').argParser(parsePositiveInt).default(1))
    .addOption(new Option('--allow-unsigned-policy', 'accept a policy document that is not signed (testing only)'))
    .addOption(new Option('--subject <file>', 'the artifact under verification'))
    .addOption(new Option('--attestations <dir>', 'directory of DSSE attestations (*.json, *.jsonl, *.link from custody run --dsse, Sigstore bundles)'))
    .addOption(new Option('--server <url>', 'fetch the attestations from a custody server instead: the subject\'s provenance graph (token from $CUSTODY_TOKEN)'))
    .addOption(new Option('--depth <n>', 'with --server: how many material hops of the provenance graph to follow').argParser(parsePositiveInt).default(8))
    .addOption(new Option('--vsa-key <file>', 'private key to sign a SLSA VSA of the result with'))
    .addOption(new Option('--vsa-keyless', 'sign the VSA keylessly instead: a Sigstore bundle for your workload identity from the CA of $CUSTODY_SERVER (or --server); token as for attest --keyless'))
    .addOption(new Option('--vsa-out <file>', 'where to write the signed VSA (with --vsa-key or --vsa-keyless)'))
    .addOption(new Option('--identity-token <file>', 'with --vsa-keyless: OIDC ID token file (default: $CUSTODY_IDENTITY_TOKEN, else minted for --step)'))
    .addOption(new Option('--step <name>', 'with --vsa-keyless: mint the ID token for this pipeline step with $CUSTODY_TOKEN'))
    .addOption(new Option('--ttl <duration>', 'with --vsa-keyless: lifetime of a minted ID token').default('10m'))
    .addOption(new Option('--namespace <ns>', 'with --vsa-keyless: namespace to mint the ID token in'))
    .addOption(new Option('--passphrase-env <var>', 'passphrase of an encrypted --vsa-key'))
    .addOption(new Option('--verifier-id <uri>', 'verifier id written into the VSA').default(DEFAULT_VERIFIER_ID))
    .addOption(new Option('--resource-uri <uri>', 'resourceUri written into the VSA (default: the subject file name)'))
    .addOption(new Option('--at <time>', 'evaluate as of this RFC 3339 time instead of now'))
    .addOption(new Option('--trusted-root <file>', 'Sigstore trusted_root.json (GET /v1/ca/trusted-root) verifying keyless attestations for identity functionaries'));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function loadPolicy(options: PolicyVerifyOptions): PolicyInput {
  const unsigned = { allowed: options.allowUnsignedPolicy === true, code: 'USAGE' as const, hint: 'pass --allow-unsigned-policy to test it' };
  return policyInputFromBytes(readFileOrFail(options.policy, 'policy'), options.policy, unsigned);
}

/** Envelopes in one file: a DSSE envelope, a Sigstore bundle holding one, or JSON lines of either. */
function envelopesIn(file: string, bytes: Buffer): AttestationInput[] {
  const single = (json: unknown, digest: DigestSet, source: string): AttestationInput => {
    if (isRecord(json) && isRecord(json['dsseEnvelope'])) {
      // A Sigstore bundle: its verification material (certificate, time-stamps, log entries) goes
      // along, for keyless functionaries.
      const material = isRecord(json['verificationMaterial']) ? { verificationMaterial: json } : {};
      return { envelope: parseEnvelope(json['dsseEnvelope']), source, digest, ...material };
    }
    return { envelope: parseEnvelope(json), source, digest };
  };
  const text = bytes.toString('utf8');
  if (file.endsWith('.jsonl')) {
    return text
      .split('\n')
      .map((line, i) => [line.trim(), i] as const)
      .filter(([line]) => line !== '')
      .map(([line, i]) => single(parseJson(line, `${file}:${i + 1}`), digestSetOfBytes(line, ['sha256']), `${basename(file)}:${i + 1}`));
  }
  return [single(parseJson(text, file), digestSetOfBytes(bytes, ['sha256']), basename(file))];
}

/**
 * The attestations a custody server holds for the artifact and, following materials, for its
 * inputs: the provenance graph in one request, then each attestation's exact stored bytes.
 */
export async function loadAttestationsFromServer(server: string, artifactDigest: DigestSet, depth: number): Promise<{ attestations: AttestationInput[]; skipped: string[] }> {
  // The server client (and with it the server's modules) loads only when --server is given.
  const { CustodyClient } = await import('../server/index.ts');
  const client = new CustodyClient({ server });
  const graph = await client.graph(`sha256:${artifactDigest['sha256'] ?? ''}`, { depth });
  const attestations: AttestationInput[] = [];
  const skipped: string[] = graph.truncated ? ['(the provenance graph was truncated by the server\'s limit)'] : [];
  for (const summary of graph.attestations) {
    const bytes = Buffer.from(await client.get(summary.id, summary.namespace));
    try {
      attestations.push(...envelopesIn(`${summary.id}.json`, bytes));
    } catch (e) {
      skipped.push(`${summary.id} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return { attestations, skipped };
}

export function loadAttestationDir(dir: string): { attestations: AttestationInput[]; skipped: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read attestation directory ${dir}`, { cause: e });
  }
  // `custody run --dsse` writes NAME.<keyid8>.link: the same name as a v0.9 link, DSSE inside.
  const files = names.filter((n) => /\.(json|jsonl|dsse|sigstore|link)$/.test(n));
  if (files.length > MAX_ATTESTATION_FILES) throw new InputError('INPUT_INVALID', `${dir} holds more than ${MAX_ATTESTATION_FILES} attestation files`);
  const attestations: AttestationInput[] = [];
  const skipped: string[] = [];
  for (const name of files) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (!stat.isFile()) continue;
    if (stat.size > MAX_ATTESTATION_FILE_BYTES) {
      skipped.push(`${name} (larger than ${MAX_ATTESTATION_FILE_BYTES} bytes)`);
      continue;
    }
    try {
      attestations.push(...envelopesIn(path, readFileOrFail(path, 'attestation')));
    } catch (e) {
      // Not an envelope (a layout, a key, notes): not evidence, reported and skipped.
      skipped.push(`${name} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return { attestations, skipped };
}

function parseAt(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const d = new Date(at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(d.getTime())) throw new InputError('USAGE', `--at '${at}' is not an RFC 3339 time`);
  return d;
}

function ruleLine(r: Verdict['steps'][number]['rules'][number]): string {
  const at = r.attestation === undefined ? '' : ` (${r.attestation})`;
  return `    ${r.passed ? '✔' : '✖'} ${r.kind === 'artifact' ? r.expr : r.name}${at}${r.passed ? '' : `: ${r.reason ?? 'failed'}`}`;
}

function issueLine(i: Verdict['issues'][number]): string {
  const where = [i.step, i.rule].filter((x) => x !== undefined).join(' / ');
  const subject = [i.attestation, i.artifact].filter((x) => x !== undefined).join(' ');
  return `  ${i.severity} ${i.code}${where === '' ? '' : ` [${where}]`}${subject === '' ? '' : ` ${subject}`}: ${i.reason}`;
}

function humanReport(verdict: Verdict, subject: string, skipped: readonly string[]): string[] {
  const digest = verdict.policy.digest?.['sha256'];
  const lines = [
    `policy ${verdict.policy.name ?? ''}${digest === undefined ? '' : ` sha256:${digest.slice(0, 16)}…`} (expires ${verdict.policy.expires ?? '?'}, signed by ${verdict.policy.signers.length} owner key(s))`,
    `subject ${subject} sha256:${verdict.artifact.digest['sha256'] ?? ''}`,
  ];
  for (const s of verdict.steps) {
    const sources = s.attestations.length > 0 ? ` [${s.attestations.join(', ')}]` : '';
    lines.push(`${s.passed ? '✔' : '✖'} ${s.kind} ${s.name}: ${s.signers.length}/${s.threshold} signer(s)${sources}`, ...s.rules.map(ruleLine));
  }
  lines.push(...skipped.map((s) => `skipped ${s}`));
  if (verdict.issues.length > 0) lines.push('issues:', ...verdict.issues.map(issueLine));
  lines.push(verdict.passed ? 'PASSED' : `FAILED (${verdict.issues.filter((i) => i.severity === 'error').length} error(s))`);
  return lines;
}

async function writeVsa(verdict: Verdict, options: PolicyVerifyOptions): Promise<KeylessWritten | undefined> {
  if (options.vsaKey === undefined && options.vsaKeyless !== true) return undefined;
  if (options.vsaOut === undefined) throw new InputError('USAGE', `${options.vsaKeyless === true ? '--vsa-keyless' : '--vsa-key'} needs --vsa-out`);
  const statement = makeVsa(verdict, {
    verifierId: options.verifierId ?? DEFAULT_VERIFIER_ID,
    resourceUri: options.resourceUri ?? basename(options.subject),
    subjectName: basename(options.subject),
  });
  if (options.vsaKeyless === true) {
    // Loaded only when asked, as the keyless verifier is: the signing client and the CA code.
    const { writeKeylessStatement } = await import('./keyless-options.ts');
    return writeKeylessStatement(statement, options.vsaOut, options);
  }
  const signer = loadPrivateKeyFile(options.vsaKey ?? '', passphraseFromEnv(options.passphraseEnv)).signer();
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), [signer]);
  writeFileAtomic(options.vsaOut, `${JSON.stringify(envelope)}\n`);
  return undefined;
}

/** Where the report goes (stdout by default; tests pass their own). */
export type ReportSink = (text: string) => void;
const toStdout: ReportSink = (text) => {
  process.stdout.write(text);
};

/** Loads the policy, subject and attestations, evaluates, writes the VSA when asked; prints nothing. */
export async function verifyPolicyFiles(options: PolicyVerifyOptions): Promise<PolicyVerifyResult> {
  if (options.policy === undefined || options.subject === undefined) throw new InputError('USAGE', 'policy verification needs --policy and --subject');
  if (options.vsaOut !== undefined && options.vsaKey === undefined && options.vsaKeyless !== true) throw new InputError('USAGE', '--vsa-out needs --vsa-key or --vsa-keyless');
  if (options.vsaKeyless === true && options.vsaKey !== undefined) throw new InputError('USAGE', '--vsa-keyless signs with an ephemeral key: drop --vsa-key');
  const now = parseAt(options.at);
  const policy = loadPolicy(options);
  const owners = (options.policyKey ?? []).map((k) => loadPublicKeyFile(k));
  if ('envelope' in policy && owners.length === 0) throw new InputError('USAGE', 'a signed policy needs --policy-key (the owners\' public keys)');
  const artifactDigest = await digestFile(options.subject, ['sha256', 'sha512']);
  if (options.attestations !== undefined && options.server !== undefined) throw new InputError('USAGE', 'give either --attestations DIR or --server URL');
  const { attestations, skipped } =
    options.server !== undefined
      ? await loadAttestationsFromServer(options.server, artifactDigest, options.depth ?? 8)
      : options.attestations === undefined
        ? { attestations: [], skipped: [] }
        : loadAttestationDir(options.attestations);
  // The keyless verifier (and with it the CA code) loads only when --trusted-root is given.
  const keyless = options.trustedRoot === undefined ? undefined : (await import('./keyless-verifier.ts')).keylessVerifierFromFile(options.trustedRoot);
  const verdict = evaluatePolicy(
    policy,
    attestations,
    { owners: { keys: owners, threshold: options.policyThreshold ?? 1 }, allowUnsignedPolicy: options.allowUnsignedPolicy === true, ...(keyless === undefined ? {} : { keyless }) },
    { artifactDigest, now },
  );
  const vsa = await writeVsa(verdict, options);
  return { verdict, skipped, ...(vsa === undefined ? {} : { vsa }) };
}

/** Runs policy verification; prints the report; throws PolicyError POLICY_FAILED when it fails. */
export async function runPolicyVerify(options: PolicyVerifyOptions, print: ReportSink = toStdout): Promise<PolicyVerifyResult> {
  const { verdict, skipped, vsa } = await verifyPolicyFiles(options);
  const keylessVsa = vsa === undefined ? {} : { vsa: { out: vsa.path, identity: vsa.identity, issuer: vsa.issuer, logIndex: vsa.logIndex } };
  const human = [...humanReport(verdict, options.subject, skipped), ...(vsa === undefined ? [] : [`VSA ${vsa.path}: keyless as ${vsa.identity} (log index ${vsa.logIndex})`])];
  print(options.json === true ? `${JSON.stringify({ ...verdict, skipped, ...keylessVsa }, null, 2)}\n` : `${human.join('\n')}\n`);
  if (!verdict.passed) {
    throw new PolicyError('POLICY_FAILED', `${options.subject} does not satisfy the policy (${verdict.issues.filter((i) => i.severity === 'error').length} error(s))`);
  }
  return { verdict, skipped };
}
