// custody source verify|approve|record|log: signed commits, reviews and the reference state log.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { InputError, type Signer } from '../core/index.ts';
import { parsePrivateKeyText } from '../keys/index.ts';
import {
  GitRepo,
  REVIEW_NOTES_REF,
  RSL_REF,
  isOpenSshPrivateKey,
  parseOpenSshPrivateKey,
  parseSourcePolicy,
  recordRef,
  signReview,
  signSourceVsa,
  sourceVsaStatement,
  sshSigner,
  storeReviewInNotes,
  verifyRsl,
  verifySource,
  type SourcePolicy,
  type SourceVerification,
} from '../source/index.ts';
import { common, output, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';
import { addKeylessOptions, refuseKeyWithKeyless, writeKeylessStatement, type KeylessFlags, type KeylessWritten } from './keyless-options.ts';

function loadPolicy(path: string): SourcePolicy {
  const text = readFileOrFail(path, 'source policy').toString('utf8');
  return parseSourcePolicy(text, { readFile: (rel) => readFileOrFail(resolve(dirname(path), rel), 'allowed signers file').toString('utf8') });
}

/** A signer from a PEM / securesystemslib key or an unencrypted OpenSSH private key. */
function loadSigner(path: string, passphraseEnv: string | undefined): Signer {
  const text = readFileOrFail(path, 'private key').toString('utf8');
  if (isOpenSshPrivateKey(text)) return sshSigner(parseOpenSshPrivateKey(text));
  return parsePrivateKeyText(text, passphraseFromEnv(passphraseEnv)).signer();
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function humanLines(result: SourceVerification): string[] {
  const lines: string[] = [];
  for (const c of result.commits) {
    if (c.passed) lines.push(`ok   ${c.commit.slice(0, 12)} signed by ${c.signer ?? '?'}`);
    else for (const f of c.findings) lines.push(`FAIL ${c.commit.slice(0, 12)} ${f.code}: ${f.message}`);
  }
  for (const r of result.reviews) {
    if (r.passed) lines.push(`ok   ${r.commit.slice(0, 12)} approved by ${r.approvers.join(', ') || '(none required)'}`);
    else for (const f of r.findings) lines.push(`FAIL ${r.commit.slice(0, 12)} ${f.code}: ${f.message}`);
  }
  for (const f of result.history) lines.push(`FAIL ${f.ref ?? ''} ${f.code}: ${f.message}`);
  for (const a of result.rejectedApprovals) lines.push(`note ignored review ${a.source}: ${a.code}: ${a.message}`);
  const failed = result.commits.filter((c) => !c.passed).length;
  lines.push(
    result.passed
      ? `verified ${result.commits.length} commit(s) on ${result.ref}${result.levels.length > 0 ? ` — ${result.levels.join(', ')}` : ''}`
      : `FAILED: ${failed} of ${result.commits.length} commit(s), ${result.reviews.filter((r) => !r.passed).length} review check(s), ${result.history.length} history finding(s) on ${result.ref}`,
  );
  return lines;
}

interface VerifyOptions extends CommonOptions, KeylessFlags {
  repo: string;
  policy: string;
  range?: string;
  ref?: string;
  asRef?: string;
  approvals?: string;
  attest?: string;
  key?: string;
  passphraseEnv?: string;
  repoUri?: string;
  /** Sign the VSA keylessly: --attest FILE is then a Sigstore bundle. */
  keyless?: boolean;
}

async function verify(options: VerifyOptions): Promise<void> {
  if ((options.range === undefined) === (options.ref === undefined)) throw new InputError('USAGE', 'give exactly one of --range A..B and --ref R');
  if (options.keyless === true) {
    refuseKeyWithKeyless('--keyless', options.key);
    if (options.attest === undefined) throw new InputError('USAGE', '--keyless signs the source VSA: give --attest FILE');
  } else if (options.attest !== undefined && options.key === undefined) throw new InputError('USAGE', '--attest needs --key or --keyless');
  const policy = loadPolicy(options.policy);
  const repo = new GitRepo(options.repo);
  const result = verifySource(repo, policy, {
    ...(options.range === undefined ? {} : { range: options.range }),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    ...(options.asRef === undefined ? {} : { asRef: options.asRef }),
    ...(options.approvals === undefined ? {} : { approvalsDir: options.approvals }),
  });
  const vsaOptions = { repoUri: options.repoUri ?? `git+file://${resolve(options.repo)}`, policyUri: resolve(options.policy), verifierVersion: version() };
  let keyless: KeylessWritten | undefined;
  if (options.attest !== undefined && options.keyless === true) {
    keyless = await writeKeylessStatement(sourceVsaStatement(result, policy.digest, vsaOptions), options.attest, options);
  } else if (options.attest !== undefined && options.key !== undefined) {
    const envelope = await signSourceVsa(result, policy.digest, loadSigner(options.key, options.passphraseEnv), vsaOptions);
    writeFileAtomic(options.attest, `${JSON.stringify(envelope)}\n`);
  }
  const human = humanLines(result);
  if (keyless !== undefined) human.push(`wrote ${keyless.path}: source VSA, keyless as ${keyless.identity} (log index ${keyless.logIndex})`);
  output(options, keyless === undefined ? result : { ...result, keyless: { attest: keyless.path, identity: keyless.identity, issuer: keyless.issuer, logIndex: keyless.logIndex } }, human);
  if (!result.passed) process.exitCode = 1;
}

interface ApproveOptions extends CommonOptions {
  repo: string;
  key: string;
  comment?: string;
  ref?: string;
  reject?: boolean;
  out?: string;
  notes?: boolean;
  passphraseEnv?: string;
}

async function approve(commit: string, options: ApproveOptions): Promise<void> {
  const repo = new GitRepo(options.repo);
  const signer = loadSigner(options.key, options.passphraseEnv);
  const envelope = await signReview(repo, commit, signer, {
    ...(options.comment === undefined ? {} : { comment: options.comment }),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    result: options.reject === true ? 'rejected' : 'approved',
  });
  const full = repo.resolve(commit) ?? commit;
  const stored: string[] = [];
  if (options.out !== undefined) {
    const file = resolve(options.out, `review-${full.slice(0, 12)}-${signer.keyid.slice(0, 12)}.json`);
    writeFileAtomic(file, `${JSON.stringify(envelope)}\n`);
    stored.push(file);
  }
  if (options.notes !== false && options.out === undefined) {
    storeReviewInNotes(repo, full, envelope);
    stored.push(`${REVIEW_NOTES_REF} (note on ${full.slice(0, 12)})`);
  }
  output(options, { commit: full, keyid: signer.keyid, stored, envelope }, `${options.reject === true ? 'rejected' : 'approved'} ${full.slice(0, 12)} with key ${signer.keyid.slice(0, 16)}: ${stored.join(', ')}`);
}

interface RecordOptions extends CommonOptions {
  repo: string;
  key: string;
  passphraseEnv?: string;
}

async function record(refs: string[], options: RecordOptions): Promise<void> {
  const repo = new GitRepo(options.repo);
  const signer = loadSigner(options.key, options.passphraseEnv);
  const targets = refs.length > 0 ? refs : [repo.fullRefName('HEAD') ?? 'HEAD'];
  const entries = [];
  for (const ref of targets) entries.push(await recordRef(repo, ref, signer));
  output(
    options,
    entries.map((e) => ({ number: e.predicate.number, ref: e.predicate.ref, commit: e.predicate.commit, logCommit: e.logCommit, hash: e.hash })),
    entries.map((e) => `recorded #${e.predicate.number}: ${e.predicate.ref} = ${e.predicate.commit} (${RSL_REF} ${e.logCommit.slice(0, 12)})`),
  );
}

interface LogOptions extends CommonOptions {
  repo: string;
  policy: string;
}

function log(options: LogOptions): void {
  const repo = new GitRepo(options.repo);
  const result = verifyRsl(repo, loadPolicy(options.policy));
  output(
    options,
    { entries: result.entries.map((e) => ({ ...e.predicate, logCommit: e.logCommit, hash: e.hash })), findings: result.findings },
    [
      ...result.entries.map((e) => `#${e.predicate.number} ${e.predicate.recordedAt} ${e.predicate.ref} ${e.predicate.commit}`),
      ...result.findings.map((f) => `FAIL ${f.code}: ${f.message}`),
    ],
  );
  if (result.findings.length > 0) process.exitCode = 1;
}

export function sourceCommand(): Command {
  const source = new Command('source').description('verify signed commits, reviews and ref history against a source policy');
  common(
    addKeylessOptions(
    source
      .command('verify')
      .description('check every commit in a range: SSH signature by a key the policy authorizes for the ref and the paths it touches, independent approvals, reference state log')
      .option('--repo <dir>', 'git repository', '.')
      .requiredOption('--policy <file>', 'source policy (YAML, see docs/source.md)')
      .option('--range <A..B>', 'commits reachable from B and not from A')
      .option('--ref <ref>', 'every commit reachable from this ref')
      .option('--as-ref <ref>', 'the ref the policy is applied for (when the range end is not a ref)')
      .option('--approvals <dir>', `directory of review envelopes, besides git notes (${REVIEW_NOTES_REF})`)
      .option('--attest <file>', 'write a signed source VSA (SLSA VSA v1) here')
      .option('--key <file>', 'key that signs the VSA (PEM, securesystemslib JSON or OpenSSH ed25519/ecdsa)')
      .option('--passphrase-env <var>', 'passphrase of an encrypted PEM key')
      .option('--repo-uri <uri>', 'repository URI for the VSA (default git+file://<repo>)'),
      '--keyless',
      'with --attest',
    ).action((o: VerifyOptions) => verify(o)),
    'custody source verify --repo . --policy source.yaml --ref main',
    'custody source verify --policy source.yaml --range v1.0..main --attest source.vsa.json --key verifier.key',
    'custody source verify --policy source.yaml --ref main --attest source.vsa.sigstore --keyless --step source-verify --server https://custody.example',
  );
  common(
    source
      .command('approve')
      .description('sign a review of a commit (predicate https://custody.dev/review/v1, naming the commit and its tree)')
      .argument('<commit>', 'the commit reviewed')
      .option('--repo <dir>', 'git repository', '.')
      .requiredOption('--key <file>', "the reviewer's key")
      .option('--comment <text>', 'review comment')
      .option('--ref <ref>', 'the ref the change is meant for')
      .option('--reject', 'record a rejection instead of an approval')
      .option('--out <dir>', 'write the envelope into this directory instead of git notes')
      .option('--passphrase-env <var>', 'passphrase of an encrypted PEM key')
      .action((commit: string, o: ApproveOptions) => approve(commit, o)),
    'custody source approve HEAD --key ~/.ssh/id_ed25519 --comment "LGTM"',
  );
  common(
    source
      .command('record')
      .description(`append a signed entry (ref, commit, previous entry hash) to the reference state log ${RSL_REF}`)
      .argument('[refs...]', 'refs to record (default: the current branch)')
      .option('--repo <dir>', 'git repository', '.')
      .requiredOption('--key <file>', "the recorder's key")
      .option('--passphrase-env <var>', 'passphrase of an encrypted PEM key')
      .action((refs: string[], o: RecordOptions) => record(refs, o)),
    'custody source record refs/heads/main --key ~/.ssh/id_ed25519',
  );
  common(
    source
      .command('log')
      .description('show and check the reference state log')
      .option('--repo <dir>', 'git repository', '.')
      .requiredOption('--policy <file>', 'source policy (who may record)')
      .action((o: LogOptions) => log(o)),
    'custody source log --policy source.yaml',
  );
  return source;
}
