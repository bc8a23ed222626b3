// custody repo init|delegate|add|remove|publish|rotate|status|sign|export|sign-file|import: a TUF
// repository in a directory (src/tuf), offline keys given per command, the online key recorded at
// init. `repo add --policy` admits a target only when its attestations pass every policy.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { Command, Option } from 'commander';
import { InputError, digestSetOfBytes, type PublicKey, type Signer } from '../core/index.ts';
import { isPrivateKeyText, loadPrivateKeyFile, parsePrivateKeyText, parsePublicKeyText } from '../keys/index.ts';
import { TOP_LEVEL_ROLES, TufRepository, parseDuration, signExported, type ExpiryPeriods, type TargetInput } from '../tuf/index.ts';
import { checkPolicies, trustedRootOption, type PolicyGateOptions } from './fetch.ts';
import { collect, common, output, parsePositiveInt, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

interface RepoOptions extends CommonOptions {
  dir: string;
  signKey?: string[];
  passphraseEnv?: string;
  onlinePassphraseEnv?: string;
}

function loadKeys(paths: readonly string[] | undefined, passphrase: string | undefined): { pubs: PublicKey[]; signers: Signer[] } {
  const pubs: PublicKey[] = [];
  const signers: Signer[] = [];
  for (const path of paths ?? []) {
    const text = readFileOrFail(path, 'key').toString('utf8');
    if (isPrivateKeyText(text)) {
      const k = parsePrivateKeyText(text, passphrase);
      pubs.push(k.publicKey);
      signers.push(k.signer());
    } else {
      pubs.push(parsePublicKeyText(text));
    }
  }
  return { pubs, signers };
}

/** Opens the repository with its online key and the command's --sign-key keys. */
function openRepo(options: RepoOptions): TufRepository {
  const repo = TufRepository.open(options.dir);
  const online = repo.onlineKeyPath;
  if (online !== undefined) repo.addSigners([loadPrivateKeyFile(online, passphraseFromEnv(options.onlinePassphraseEnv)).signer()]);
  repo.addSigners(loadKeys(options.signKey, passphraseFromEnv(options.passphraseEnv)).signers);
  return repo;
}

function withRepoOptions(command: Command): Command {
  return command
    .requiredOption('--dir <dir>', 'repository directory')
    .addOption(new Option('--sign-key <file>', 'private key to sign with (offline roles); repeat for several').argParser(collect))
    .option('--passphrase-env <var>', 'passphrase of encrypted --sign-key files')
    .option('--online-passphrase-env <var>', 'passphrase of the encrypted online key');
}

function parseExpiry(values: readonly string[] | undefined): Partial<ExpiryPeriods> {
  const out: Partial<ExpiryPeriods> = {};
  for (const v of values ?? []) {
    const [role, duration] = v.split('=');
    if (role === undefined || duration === undefined || !['root', 'targets', 'snapshot', 'timestamp', 'delegated'].includes(role)) {
      throw new InputError('USAGE', `--expires '${v}': expected ROLE=DURATION with ROLE one of root, targets, snapshot, timestamp, delegated`);
    }
    out[role as keyof ExpiryPeriods] = parseDuration(duration);
  }
  return out;
}

interface InitOptions extends RepoOptions {
  rootKey: string[];
  rootThreshold?: number;
  targetsKey: string[];
  targetsThreshold?: number;
  onlineKey: string;
  expires?: string[];
}

async function init(o: InitOptions): Promise<void> {
  const pass = passphraseFromEnv(o.passphraseEnv);
  const root = loadKeys(o.rootKey, pass);
  const targets = loadKeys(o.targetsKey, pass);
  // A public key: the private online key lives elsewhere (e.g. an HSM custody serve opens, tuf.onlineKeys).
  const onlineText = readFileOrFail(o.onlineKey, 'key').toString('utf8');
  const online = isPrivateKeyText(onlineText) ? loadPrivateKeyFile(o.onlineKey, passphraseFromEnv(o.onlinePassphraseEnv)) : undefined;
  const onlinePub = online?.publicKey ?? parsePublicKeyText(onlineText);
  const extra = loadKeys(o.signKey, pass);
  const repo = TufRepository.init(
    o.dir,
    {
      rootKeys: root.pubs,
      rootThreshold: o.rootThreshold ?? 1,
      targetsKeys: targets.pubs,
      targetsThreshold: o.targetsThreshold ?? 1,
      onlineKeys: [onlinePub],
      expiry: parseExpiry(o.expires),
      ...(online === undefined ? {} : { onlineKeyPath: resolve(o.onlineKey) }),
    },
    [...root.signers, ...targets.signers, ...extra.signers, ...(online === undefined ? [] : [online.signer()])],
  );
  await repo.save();
  const missing = repo.pendingRoles().filter((r) => repo.status(r).missing > 0);
  if (online === undefined && missing.length === 0) {
    output(o, { dir: o.dir, publishedBy: 'online key holder' }, `initialized ${o.dir}; the online key is not here: custody serve publishes it (tuf.onlineKeys)`);
  } else if (missing.length === 0) {
    const r = await repo.publish();
    output(o, { dir: o.dir, published: r }, `initialized and published ${o.dir} (root v${r.rootVersion}, timestamp v${r.timestampVersion})`);
  } else {
    output(o, { dir: o.dir, needsSignatures: missing }, `initialized ${o.dir}; ${missing.join(', ')} still need signatures (custody repo export/import), then custody repo publish`);
  }
}

interface DelegateOptions extends RepoOptions {
  role?: string;
  from?: string;
  paths?: string[];
  key?: string[];
  threshold?: number;
  terminating?: boolean;
  hashBins?: number;
  binPrefix?: string;
}

async function delegate(o: DelegateOptions): Promise<void> {
  const repo = openRepo(o);
  let keys = loadKeys(o.key, undefined).pubs;
  if (o.hashBins !== undefined) {
    if (keys.length === 0) {
      const online = repo.onlineKeyPath;
      if (online === undefined) throw new InputError('USAGE', 'hashed bins need --key (no online key recorded)');
      keys = [loadPrivateKeyFile(online, passphraseFromEnv(o.onlinePassphraseEnv)).publicKey];
    }
    const bins = repo.delegateHashBins({ ...(o.from === undefined ? {} : { from: o.from }), bits: o.hashBins, ...(o.binPrefix === undefined ? {} : { prefix: o.binPrefix }), keys, threshold: o.threshold ?? 1 });
    await repo.save();
    output(o, { from: o.from ?? 'targets', bins: bins.length, first: bins[0], last: bins.at(-1) }, `${o.from ?? 'targets'} delegates to ${bins.length} hashed bins (${bins[0] ?? ''} … ${bins.at(-1) ?? ''}); publish to release`);
    return;
  }
  if (o.role === undefined || o.paths === undefined || keys.length === 0) throw new InputError('USAGE', 'repo delegate needs --role, --paths and --key (or --hash-bins)');
  repo.delegate({ role: o.role, ...(o.from === undefined ? {} : { from: o.from }), paths: o.paths, keys, threshold: o.threshold ?? 1, terminating: o.terminating === true });
  await repo.save();
  const s = [repo.status(o.from ?? 'targets'), repo.status(o.role)];
  output(o, s, [`${o.from ?? 'targets'} delegates ${o.paths.join(' ')} to ${o.role} (${o.threshold ?? 1} of ${keys.length} keys)`, ...s.filter((x) => x.missing > 0).map((x) => `${x.role} needs ${x.missing} more signature(s) before publish`)]);
}

interface AddOptions extends RepoOptions, PolicyGateOptions {
  as: string;
  role?: string;
  attestations?: string;
  bundle?: string;
  publish?: boolean;
}

/** Attestation files as loaded by `custody verify --policy` (same extensions). */
function attestationFiles(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  return readdirSync(dir)
    .filter((n) => /\.(json|jsonl|dsse|sigstore)$/.test(n) && statSync(join(dir, n)).isFile())
    .sort()
    .map((n) => join(dir, n));
}

async function add(file: string, o: AddOptions): Promise<void> {
  const content = readFileOrFail(file, 'target');
  if (o.trustedRoot !== undefined && (o.policy ?? []).length === 0) throw new InputError('USAGE', '--trusted-root verifies keyless attestations for --policy: give the admission policy');
  if ((o.policy ?? []).length > 0) {
    // Admission (CNCF example step 12): the evidence must pass every policy before the target enters.
    const scratch = mkdtempSync(join(tmpdir(), 'custody-admit-'));
    try {
      for (const f of attestationFiles(o.attestations)) copyFileSync(f, join(scratch, basename(f)));
      await checkPolicies(o, file, scratch, undefined, 'ADMISSION_DENIED');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const repo = openRepo(o);
  const { dir, base } = posix.parse(o.as);
  const evidence: TargetInput[] = attestationFiles(o.attestations).map((f) => {
    const bytes = readFileSync(f);
    return { path: posix.join(dir, `${base}.att.${basename(f)}`), length: bytes.length, hashes: digestSetOfBytes(bytes, ['sha256', 'sha512']), content: bytes };
  });
  let bundle: TargetInput | undefined;
  if (o.bundle !== undefined) {
    const bytes = readFileOrFail(o.bundle, 'bundle');
    bundle = { path: posix.join(dir, `${base}.sigstore.json`), length: bytes.length, hashes: digestSetOfBytes(bytes, ['sha256', 'sha512']), content: bytes };
  }
  const custody = { attestations: evidence.map((e) => e.path), ...(bundle === undefined ? {} : { bundle: bundle.path }) };
  const main: TargetInput = { path: o.as, length: content.length, hashes: digestSetOfBytes(content, ['sha256', 'sha512']), content, custom: { custody } };
  const roles = repo.addTargets([main, ...evidence, ...(bundle === undefined ? [] : [bundle])], o.role);
  await repo.save();
  const published = o.publish === true ? await repo.publish() : undefined;
  output(o, { target: o.as, role: roles[0], attestations: custody.attestations, published }, [
    `added ${o.as} (${content.length} bytes) to ${roles[0] ?? '?'} with ${evidence.length} attestation(s)${bundle === undefined ? '' : ' and a bundle'}`,
    ...(published === undefined ? [] : [`published snapshot v${published.snapshotVersion}, timestamp v${published.timestampVersion}`]),
  ]);
}

async function publish(o: RepoOptions & { refreshWithin?: string }): Promise<void> {
  const repo = openRepo(o);
  const r = await repo.publish(o.refreshWithin === undefined ? {} : { refreshWithin: parseDuration(o.refreshWithin) });
  output(o, r, `published root v${r.rootVersion}, snapshot v${r.snapshotVersion}, timestamp v${r.timestampVersion}${r.roles.length > 0 ? ` (${r.roles.length} role(s): ${r.roles.slice(0, 8).join(', ')}${r.roles.length > 8 ? ', …' : ''})` : ''}`);
}

interface RotateOptions extends RepoOptions {
  role: string;
  addKey?: string[];
  removeKey?: string[];
  threshold?: number;
  onlineKey?: string;
}

async function rotate(o: RotateOptions): Promise<void> {
  if (!(TOP_LEVEL_ROLES as readonly string[]).includes(o.role)) throw new InputError('USAGE', `--role must be one of ${TOP_LEVEL_ROLES.join(', ')} (delegated roles change with repo delegate)`);
  const repo = openRepo(o);
  if (o.onlineKey !== undefined) {
    repo.setOnlineKeyPath(resolve(o.onlineKey));
    repo.addSigners([loadPrivateKeyFile(o.onlineKey, passphraseFromEnv(o.onlinePassphraseEnv)).signer()]);
  }
  repo.rotate({ role: o.role as (typeof TOP_LEVEL_ROLES)[number], add: loadKeys(o.addKey, undefined).pubs, remove: o.removeKey ?? [], ...(o.threshold === undefined ? {} : { threshold: o.threshold }) });
  await repo.save();
  const s = repo.status('root');
  output(o, s, [`root v${s.version}: ${o.role} keys changed`, s.missing > 0 ? `root needs ${s.missing} more signature(s) (old and new root thresholds) before publish` : 'root is signed; run custody repo publish']);
}

function status(o: RepoOptions): void {
  const repo = TufRepository.open(o.dir);
  const roles = repo.listRoles().filter((r) => repo.has(r)).map((r) => repo.status(r));
  const bins = repo.binSummary();
  output(o, { roles, bins, pending: repo.pendingRoles().length }, [
    ...roles.map(
      (s) =>
        `${s.role.padEnd(12)} v${s.version}  expires ${s.expires}${s.expired ? ' (EXPIRED)' : ''}  ${s.signedBy.length}/${s.threshold} signed${s.missing > 0 ? `, needs ${s.missing}` : ''}${s.pending ? ', unpublished' : ''}${s.targets > 0 ? `, ${s.targets} target(s)` : ''}  keys ${s.keyids.map((k) => k.slice(0, 12)).join(' ')}`,
    ),
    ...bins.map((b) => `${b.prefix}-*  ${b.bins} hashed bins under ${b.from}${b.pending > 0 ? `, ${b.pending} unpublished` : ''}`),
  ]);
}

async function sign(o: RepoOptions & { role: string }): Promise<void> {
  const repo = openRepo(o);
  const ids = await repo.sign(o.role);
  const s = repo.status(o.role);
  output(o, s, `${o.role} signed by ${ids.map((i) => i.slice(0, 16)).join(', ')}; ${s.missing > 0 ? `needs ${s.missing} more` : 'threshold met'}`);
}

function exportRole(o: RepoOptions & { role: string; out: string }): void {
  const repo = TufRepository.open(o.dir);
  writeFileAtomic(o.out, `${JSON.stringify(repo.exportRole(o.role), null, 2)}\n`);
  output(o, { role: o.role, out: o.out }, `wrote ${o.role} for signing to ${o.out}`);
}

async function signFile(file: string, o: CommonOptions & { signKey?: string[]; passphraseEnv?: string }): Promise<void> {
  const { signers } = loadKeys(o.signKey, passphraseFromEnv(o.passphraseEnv));
  if (signers.length === 0) throw new InputError('USAGE', 'repo sign-file needs --sign-key');
  const json = JSON.parse(readFileOrFail(file, 'exported role').toString('utf8')) as unknown;
  writeFileAtomic(file, `${JSON.stringify(await signExported(json, signers), null, 2)}\n`);
  output(o, { file, signers: signers.length }, `signed ${file} with ${signers.length} key(s)`);
}

function importSignatures(o: RepoOptions & { role: string; file: string }): void {
  const repo = TufRepository.open(o.dir);
  const added = repo.importSignatures(o.role, JSON.parse(readFileOrFail(o.file, 'signed role').toString('utf8')) as unknown);
  const s = repo.status(o.role);
  output(o, { added, status: s }, `${added.length} signature(s) imported into ${o.role}; ${s.missing > 0 ? `needs ${s.missing} more` : 'threshold met'}`);
}

async function remove(path: string, o: RepoOptions & { role?: string }): Promise<void> {
  const repo = openRepo(o);
  const role = repo.removeTarget(path, o.role);
  await repo.save();
  output(o, { target: path, role }, `removed ${path} from ${role}`);
}

export function repoCommand(): Command {
  const repo = new Command('repo').description('a TUF repository: init, delegate, add, publish, rotate, status, offline signing');
  repo.addCommand(
    common(
      withRepoOptions(new Command('init').description('create root, targets, snapshot and timestamp (consistent snapshots)'))
        .addOption(new Option('--root-key <file>', 'root key (private: signs now; public: sign later); repeat').argParser(collect).makeOptionMandatory())
        .addOption(new Option('--root-threshold <n>', 'root signatures required').argParser(parsePositiveInt))
        .addOption(new Option('--targets-key <file>', 'targets key (private or public); repeat').argParser(collect).makeOptionMandatory())
        .addOption(new Option('--targets-threshold <n>', 'targets signatures required').argParser(parsePositiveInt))
        .requiredOption('--online-key <file>', 'private key of the online roles (snapshot, timestamp; its path is recorded), or only its public key when the server holds it (e.g. in an HSM)')
        .addOption(new Option('--expires <role=duration>', 'expiry period, e.g. timestamp=1d; repeat').argParser(collect))
        .action((o: InitOptions) => init(o)),
      'custody repo init --dir repo --root-key r1.key --root-key r2.key --root-threshold 2 --targets-key t.key --online-key online.key',
    ),
  );
  repo.addCommand(
    common(
      withRepoOptions(new Command('delegate').description('delegate paths to a role, or every path to hashed bins (TAP 15)'))
        .option('--role <name>', 'delegated role name')
        .option('--from <role>', 'delegating role (default targets)')
        .addOption(new Option('--paths <glob...>', 'path patterns the role is trusted for'))
        .addOption(new Option('--key <file>', 'public key of the role; repeat').argParser(collect))
        .addOption(new Option('--threshold <n>', 'signatures required').argParser(parsePositiveInt))
        .option('--terminating', 'stop the search at this role for its paths')
        .addOption(new Option('--hash-bins <bits>', 'succinct hashed bins: 2^bits bins (online key unless --key)').argParser(parsePositiveInt))
        .option('--bin-prefix <name>', 'bin name prefix')
        .action((o: DelegateOptions) => delegate(o)),
      'custody repo delegate --dir repo --role apps --paths "apps/*" --key apps.pub --threshold 1 --sign-key targets.key',
      'custody repo delegate --dir repo --from apps --hash-bins 8',
    ),
  );
  const addCmd = withRepoOptions(new Command('add').description('add a target (and its attestations) to the role trusted for its path'))
    .argument('<file>', 'the artifact')
    .requiredOption('--as <path>', 'target path in the repository')
    .option('--role <role>', 'role to add it to (must be delegated the path)')
    .option('--attestations <dir>', 'directory of DSSE attestations, published as targets next to it')
    .option('--bundle <file>', 'Sigstore bundle, published next to it')
    .addOption(new Option('--policy <file>', 'admission policy the attestations must pass; repeat').argParser(collect))
    .addOption(new Option('--policy-key <file>', 'public key of a policy owner; repeat').argParser(collect))
    .addOption(new Option('--policy-threshold <n>', 'owner keys that must have signed each policy').argParser(parsePositiveInt))
    .option('--allow-unsigned-policy', 'accept unsigned policy documents (testing only)')
    .addOption(trustedRootOption(''))
    .option('--publish', 'publish right away')
    .action((file: string, o: AddOptions) => add(file, o));
  repo.addCommand(
    common(
      addCmd,
      'custody repo add dist/app.tgz --as apps/app.tgz --attestations atts/ --policy policy.json --policy-key owner.pub --dir repo --sign-key apps.key',
      'custody repo add dist/app.tgz --as apps/app.tgz --attestations atts/ --policy policy.json --policy-key owner.pub --trusted-root custody_root.json --dir repo --sign-key apps.key',
    ),
  );
  repo.addCommand(
    common(
      withRepoOptions(new Command('remove').description('remove a target'))
        .argument('<path>', 'target path')
        .option('--role <role>', 'role holding it')
        .action((path: string, o: RepoOptions & { role?: string }) => remove(path, o)),
    ),
  );
  repo.addCommand(
    common(
      withRepoOptions(new Command('publish').description('write a new consistent snapshot: changed roles, snapshot, timestamp'))
        .option('--refresh-within <duration>', 'also re-sign online roles expiring within this period, e.g. 1d')
        .action((o: RepoOptions & { refreshWithin?: string }) => publish(o)),
      'custody repo publish --dir repo',
    ),
  );
  repo.addCommand(
    common(
      withRepoOptions(new Command('rotate').description('new root version changing a top-level role\'s keys (signed by old and new root thresholds)'))
        .requiredOption('--role <role>', 'root, targets, snapshot or timestamp')
        .addOption(new Option('--add-key <file>', 'key to add; repeat').argParser(collect))
        .addOption(new Option('--remove-key <keyid>', 'key id (or 8+ hex digit prefix) to revoke; repeat').argParser(collect))
        .addOption(new Option('--threshold <n>', 'new threshold').argParser(parsePositiveInt))
        .option('--online-key <file>', 'new online private key (snapshot/timestamp rotation)')
        .action((o: RotateOptions) => rotate(o)),
      'custody repo rotate --dir repo --role root --add-key r3.pub --remove-key 1a2b3c4d --sign-key r1.key --sign-key r2.key',
    ),
  );
  repo.addCommand(common(new Command('status').description('versions, expiries, thresholds, missing signatures').requiredOption('--dir <dir>', 'repository directory').action((o: RepoOptions) => status(o))));
  repo.addCommand(
    common(
      withRepoOptions(new Command('sign').description('sign a staged role with local keys'))
        .requiredOption('--role <role>', 'role to sign')
        .action((o: RepoOptions & { role: string }) => sign(o)),
    ),
  );
  repo.addCommand(
    common(
      new Command('export')
        .description('write a staged role for offline signing')
        .requiredOption('--dir <dir>', 'repository directory')
        .requiredOption('--role <role>', 'role')
        .requiredOption('--out <file>', 'output file')
        .action((o: RepoOptions & { role: string; out: string }) => exportRole(o)),
    ),
  );
  repo.addCommand(
    common(
      new Command('sign-file')
        .description('sign an exported role file in place (on the offline signer\'s machine; no repository needed)')
        .argument('<file>', 'exported role')
        .addOption(new Option('--sign-key <file>', 'private key; repeat').argParser(collect))
        .option('--passphrase-env <var>', 'passphrase of encrypted keys')
        .action((file: string, o: CommonOptions & { signKey?: string[]; passphraseEnv?: string }) => signFile(file, o)),
    ),
  );
  repo.addCommand(
    common(
      new Command('import')
        .description('merge signatures from a signed copy of a staged role')
        .requiredOption('--dir <dir>', 'repository directory')
        .requiredOption('--role <role>', 'role')
        .requiredOption('--file <file>', 'signed copy')
        .action((o: RepoOptions & { role: string; file: string }) => importSignatures(o)),
    ),
  );
  return repo;
}
