// custody fetch TARGET --repo URL --root root.json: the TUF client workflow through tuf-js, then
// the target's attestations (TUF targets themselves) checked against each --policy before the
// file is written, atomically. Also holds the policy check that `repo add` uses for admission.
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, PolicyError, isCustodyError } from '../core/index.ts';
import { failedRuleSummaries } from '../policy/index.ts';
import { TufClient, parseReferenceTime, type FetchedTarget } from '../tuf/index.ts';
import { collect, common, output, parsePositiveInt, type CommonOptions } from './io.ts';
import { verifyPolicyFiles } from './verify-policy.ts';

export interface PolicyGateOptions {
  policy?: string[];
  policyKey?: string[];
  policyThreshold?: number;
  allowUnsignedPolicy?: boolean;
  /** Sigstore trusted_root.json verifying keyless attestations for identity functionaries. */
  trustedRoot?: string;
}

/** Adds --trusted-root (identity functionaries) next to the --policy options. */
export function trustedRootOption(what: string): Option {
  return new Option('--trusted-root <file>', `Sigstore trusted_root.json (custody fetch trusted_root.json, or GET /v1/ca/trusted-root) verifying keyless attestations for the policy's identity functionaries${what}`);
}

/** Why keyless attestations did not count, when the errors alone would only say "missing". */
function keylessHints(verdict: { issues: readonly { code: string; severity: string; attestation?: string; reason: string }[] }): string[] {
  const hints = verdict.issues
    .filter((i) => i.severity === 'warning' && ['KEYLESS_UNVERIFIED', 'KEYLESS_INVALID', 'CERTIFICATE_UNTRUSTED', 'CERTIFICATE_EXPIRED'].includes(i.code))
    .map((i) => (i.code === 'KEYLESS_UNVERIFIED' ? 'KEYLESS_UNVERIFIED: keyless attestations were not verified: no trusted root (--trusted-root)' : `${i.code}: ${i.reason}`));
  return [...new Set(hints)];
}

/**
 * Every policy must pass for the subject with the attestations in `attestationsDir` (the same
 * loading and evaluation as `custody verify --policy`). Throws PolicyError naming the failed rules.
 */
export async function checkPolicies(options: PolicyGateOptions, subject: string, attestationsDir: string, at?: Date, code: 'POLICY_FAILED' | 'ADMISSION_DENIED' = 'POLICY_FAILED'): Promise<string[]> {
  const passed: string[] = [];
  for (const policy of options.policy ?? []) {
    const { verdict } = await verifyPolicyFiles({
      policy,
      ...(options.policyKey === undefined ? {} : { policyKey: options.policyKey }),
      policyThreshold: options.policyThreshold ?? 1,
      ...(options.allowUnsignedPolicy === true ? { allowUnsignedPolicy: true } : {}),
      ...(options.trustedRoot === undefined ? {} : { trustedRoot: options.trustedRoot }),
      subject,
      attestations: attestationsDir,
      ...(at === undefined ? {} : { at: at.toISOString() }),
    });
    if (!verdict.passed) {
      const rules = [...failedRuleSummaries(verdict), ...keylessHints(verdict)];
      throw new PolicyError(code, `${basename(subject)} fails policy ${basename(policy)}: ${rules.length > 0 ? rules.join('; ') : 'the policy is not satisfied'}`);
    }
    passed.push(policy);
  }
  return passed;
}

interface FetchOptions extends CommonOptions, PolicyGateOptions {
  repo: string;
  root?: string;
  out?: string;
  metadataDir?: string;
  referenceTime?: string;
}

/** The keyless trust document custody serve publishes as a TUF target (docs/keyless.md). */
export const TRUSTED_ROOT_TARGET = 'trusted_root.json';

/**
 * The repository's own `trusted_root.json` target, verified through TUF like any target, for
 * checking keyless attestations when no --trusted-root is given; undefined when it has none.
 */
async function repositoryTrustedRoot(client: TufClient, outDir: string): Promise<FetchedTarget | undefined> {
  try {
    return await client.fetch(TRUSTED_ROOT_TARGET, outDir);
  } catch (e) {
    if (isCustodyError(e) && e.code === 'TARGET_MISSING') return undefined;
    throw e;
  }
}

async function fetchTarget(target: string, options: FetchOptions): Promise<void> {
  if (options.trustedRoot !== undefined && (options.policy ?? []).length === 0) throw new InputError('USAGE', '--trusted-root verifies keyless attestations for --policy: give the policy');
  const at = options.referenceTime === undefined ? undefined : parseReferenceTime(options.referenceTime);
  const out = resolve(options.out ?? basename(target));
  mkdirSync(dirname(out), { recursive: true });
  const client = new TufClient({
    repo: options.repo,
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.metadataDir === undefined ? {} : { metadataDir: options.metadataDir }),
    ...(at === undefined ? {} : { referenceTime: at }),
  });
  try {
    const fetched = await client.fetch(target, dirname(out));
    let tufRoot: FetchedTarget | undefined;
    try {
      // --trusted-root wins; otherwise the repository's trusted_root.json target, when it has one.
      if ((options.policy ?? []).length > 0 && options.trustedRoot === undefined && target !== TRUSTED_ROOT_TARGET) tufRoot = await repositoryTrustedRoot(client, dirname(out));
      const trustedRoot = options.trustedRoot ?? tufRoot?.file;
      const policies = await checkPolicies({ ...options, ...(trustedRoot === undefined ? {} : { trustedRoot }) }, fetched.file, fetched.attestationDir, at);
      fetched.commit(out);
      const rootSource = options.trustedRoot ?? (tufRoot === undefined ? null : `TUF target ${TRUSTED_ROOT_TARGET}`);
      output(
        options,
        { target, out, length: fetched.info.length, hashes: fetched.info.hashes, attestations: fetched.attestations, policies, trustedRoot: rootSource },
        [
          `✔ ${target} (${fetched.info.length} bytes, sha256:${fetched.info.hashes['sha256'] ?? '?'}) verified by TUF`,
          ...policies.map((p) => `✔ policy ${basename(p)} passed (${fetched.attestations.length} attestation(s)${rootSource === null ? '' : `; keyless trusted root: ${rootSource}`})`),
          `wrote ${out}`,
        ],
      );
    } finally {
      fetched.dispose();
      tufRoot?.dispose();
    }
  } finally {
    client.close();
  }
}

export function fetchCommand(): Command {
  return common(
    new Command('fetch')
      .description('download a target through TUF (tuf-js) and verify its attestations against policies before writing it')
      .argument('<target>', 'target path in the repository')
      .requiredOption('--repo <url|dir>', 'repository base URL (metadata/ and targets/ below it) or a local copy')
      .option('--root <file>', 'trusted root.json (needed until the metadata directory holds one)')
      .option('--out <file>', 'where to write the target (default: its file name)')
      .option('--metadata-dir <dir>', 'keep trusted metadata here between runs (warm refresh)')
      .option('--reference-time <time>', 'judge expiry as of this RFC 3339 time (air-gapped use)')
      .addOption(new Option('--policy <file>', 'attestation policy the target must pass; repeat for several').argParser(collect))
      .addOption(new Option('--policy-key <file>', 'public key of a policy owner; repeat for several').argParser(collect))
      .addOption(new Option('--policy-threshold <n>', 'owner keys that must have signed each policy').argParser(parsePositiveInt))
      .option('--allow-unsigned-policy', 'accept unsigned policy documents (testing only)')
      .addOption(trustedRootOption(' (default: the repository\'s TUF target trusted_root.json, when it has one)'))
      .action((target: string, o: FetchOptions) => fetchTarget(target, o)),
    'custody fetch apps/app.tgz --repo https://tuf.example/tuf --root root.json --policy policy.json --policy-key owner.pub',
    'custody fetch apps/app.tgz --repo ./repo-copy --root root.json --reference-time 2026-01-31T12:00:00Z',
    'custody fetch apps/app.tgz --repo https://custody.example/tuf --root root.json --policy release.json --policy-key owner.pub --trusted-root custody_root.json',
  );
}
