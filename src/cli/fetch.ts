// custody fetch TARGET --repo URL --root root.json: the TUF client workflow through tuf-js, then
// the target's attestations (TUF targets themselves) checked against each --policy before the
// file is written, atomically. Also holds the policy check that `repo add` uses for admission.
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { PolicyError } from '../core/index.ts';
import { failedRuleSummaries } from '../policy/index.ts';
import { TufClient, parseReferenceTime } from '../tuf/index.ts';
import { collect, common, output, parsePositiveInt, type CommonOptions } from './io.ts';
import { verifyPolicyFiles } from './verify-policy.ts';

export interface PolicyGateOptions {
  policy?: string[];
  policyKey?: string[];
  policyThreshold?: number;
  allowUnsignedPolicy?: boolean;
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
      subject,
      attestations: attestationsDir,
      ...(at === undefined ? {} : { at: at.toISOString() }),
    });
    if (!verdict.passed) {
      const rules = failedRuleSummaries(verdict);
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

async function fetchTarget(target: string, options: FetchOptions): Promise<void> {
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
    try {
      const policies = await checkPolicies(options, fetched.file, fetched.attestationDir, at);
      fetched.commit(out);
      output(
        options,
        { target, out, length: fetched.info.length, hashes: fetched.info.hashes, attestations: fetched.attestations, policies },
        [
          `✔ ${target} (${fetched.info.length} bytes, sha256:${fetched.info.hashes['sha256'] ?? '?'}) verified by TUF`,
          ...policies.map((p) => `✔ policy ${basename(p)} passed (${fetched.attestations.length} attestation(s))`),
          `wrote ${out}`,
        ],
      );
    } finally {
      fetched.dispose();
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
      .action((target: string, o: FetchOptions) => fetchTarget(target, o)),
    'custody fetch apps/app.tgz --repo https://tuf.example/tuf --root root.json --policy policy.json --policy-key owner.pub',
    'custody fetch apps/app.tgz --repo ./repo-copy --root root.json --reference-time 2026-01-31T12:00:00Z',
  );
}
