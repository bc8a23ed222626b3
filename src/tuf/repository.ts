// A TUF repository on disk, built on @tufjs/models. Working ("staged") metadata lives in
// R/staged, published consistent snapshots in R/metadata (TUF spec §5: N.root.json,
// V.snapshot.json, V.<role>.json, timestamp.json), content-addressed targets in R/targets
// (<dir>/<sha256>.<name>). Signers are handed in: offline keys per command, the online key
// (snapshot, timestamp, hashed bins) by whoever opens the repository.
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  Metadata,
  MetadataKind,
  MetaFile,
  Root,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
  type Key,
} from '@tufjs/models';
import {
  InputError,
  PolicyError,
  VerificationError,
  canonicalJson,
  digestBytes,
  writeFileAtomic,
  type PublicKey,
  type Signer,
} from '../core/index.ts';
import { formatTufTime } from './tuf-time.ts';
import { metadataJson, primeSignedJson, signMetadata, signedBytes, signedJson, tufKey, tufKeyId, validSigners, type AnyMetadata } from './tuf-keys.ts';

export const SPEC_VERSION = '1.0.31';
export const TOP_LEVEL_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
type TopLevelRole = (typeof TOP_LEVEL_ROLES)[number];

export interface ExpiryPeriods {
  root: number;
  targets: number;
  snapshot: number;
  timestamp: number;
  /** Named delegated roles and hashed bins. */
  delegated: number;
}

export const DEFAULT_EXPIRY: ExpiryPeriods = { root: 365 * 86400, targets: 90 * 86400, snapshot: 7 * 86400, timestamp: 86400, delegated: 90 * 86400 };

/** R/repository.json: what the repository remembers between commands. */
interface RepoState {
  format: 'custody-tuf-repository/v1';
  expiry: ExpiryPeriods;
  /** Named delegated role → the role that delegates it. */
  parents: Record<string, string>;
  /** Role holding succinct hashed-bin delegations (TAP 15) → bin name prefix. */
  succinct: Record<string, string>;
  /** Roles changed since the last publish. */
  pending: string[];
  /** Latest published versions. */
  published: { root: number; snapshot: number; timestamp: number };
  /** Where the online key lives (a path the composition root opens); informational here. */
  onlineKey?: string;
}

export interface InitOptions {
  rootKeys: readonly PublicKey[];
  rootThreshold: number;
  targetsKeys: readonly PublicKey[];
  targetsThreshold: number;
  /** Key of the online roles (snapshot, timestamp). */
  onlineKeys: readonly PublicKey[];
  expiry?: Partial<ExpiryPeriods>;
  onlineKeyPath?: string;
  now?: Date;
}

export interface TargetInput {
  path: string;
  length: number;
  hashes: Record<string, string>;
  custom?: Record<string, unknown>;
  /** The bytes, stored under R/targets when given. */
  content?: Uint8Array;
}

export interface RoleStatus {
  role: string;
  version: number;
  expires: string;
  expired: boolean;
  threshold: number;
  keyids: string[];
  signedBy: string[];
  /** Missing valid signatures (0 = signed). Root counts the stricter of old and new root. */
  missing: number;
  pending: boolean;
  targets: number;
}

export interface PublishResult {
  snapshotVersion: number;
  timestampVersion: number;
  rootVersion: number;
  roles: string[];
}

/** A metadata file as JSON object (models' own type). */
type JsonObject = ReturnType<AnyMetadata['toJSON']>;

function isTopLevel(name: string): name is TopLevelRole {
  return (TOP_LEVEL_ROLES as readonly string[]).includes(name);
}

/** Rejects role names that could escape the metadata directory or collide with top-level files. */
export function checkRoleName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name) || name.endsWith('.json')) throw new InputError('USAGE', `'${name}' is not a usable role name`);
}

/** TUF target paths are relative POSIX paths without '.'/'..' segments. */
export function checkTargetPath(path: string): void {
  const bad = path === '' || path.startsWith('/') || path.includes('\\') || path.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad || path.length > 1024) throw new InputError('PATH_INVALID', `'${path}' is not a relative target path`);
}

function kindOf(name: string): MetadataKind {
  if (name === 'root') return MetadataKind.Root;
  if (name === 'snapshot') return MetadataKind.Snapshot;
  if (name === 'timestamp') return MetadataKind.Timestamp;
  return MetadataKind.Targets;
}

/** Parses a metadata document of the given kind (models validate every field). */
export function parseMetadata(kind: MetadataKind, json: unknown, what: string): AnyMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('REPOSITORY_INVALID', `${what}: not a JSON object`);
  try {
    switch (kind) {
      case MetadataKind.Root:
        return Metadata.fromJSON(MetadataKind.Root, json as JsonObject);
      case MetadataKind.Snapshot:
        return Metadata.fromJSON(MetadataKind.Snapshot, json as JsonObject);
      case MetadataKind.Timestamp:
        return Metadata.fromJSON(MetadataKind.Timestamp, json as JsonObject);
      case MetadataKind.Targets:
        return Metadata.fromJSON(MetadataKind.Targets, json as JsonObject);
    }
  } catch (e) {
    throw new InputError('REPOSITORY_INVALID', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * Parses metadata this repository wrote itself (staged files, or a change just made). Targets
 * roles are built by @tufjs/models without their `targets` map, which it parses in O(n²); the
 * map stays plain JSON (each entry was made by models' TargetFile when added) and is primed as
 * the role's signed JSON. Documents from elsewhere go through parseMetadata in full.
 */
function parseStaged(kind: MetadataKind, json: unknown, what: string): AnyMetadata {
  if (kind !== MetadataKind.Targets) return parseMetadata(kind, json, what);
  const doc = json as { signed?: unknown; signatures?: unknown };
  const signed = doc.signed as Record<string, unknown> | undefined;
  const targets = signed?.['targets'];
  if (typeof signed !== 'object' || signed === null || (targets !== undefined && (typeof targets !== 'object' || targets === null || Array.isArray(targets)))) {
    throw new InputError('REPOSITORY_INVALID', `${what}: not targets metadata`);
  }
  const md = parseMetadata(kind, { ...doc, signed: { ...signed, targets: {} } }, what);
  primeSignedJson(md, { ...signed, targets: (targets ?? {}) as JsonObject });
  return md;
}

function serialize(md: AnyMetadata): string {
  return JSON.stringify(metadataJson(md));
}

export class TufRepository {
  readonly dir: string;
  private state: RepoState;
  private readonly cache = new Map<string, AnyMetadata>();
  /** Roles changed in this session: re-signed and written by save(). */
  private readonly changed = new Set<string>();
  private signers: Signer[] = [];
  private now: () => Date;

  private constructor(dir: string, state: RepoState, now: () => Date) {
    this.dir = dir;
    this.state = state;
    this.now = now;
  }

  /** Opens an existing repository; `signers` are the keys available to this session (online and offline). */
  static open(dir: string, signers: readonly Signer[] = [], now: () => Date = () => new Date()): TufRepository {
    const file = join(dir, 'repository.json');
    if (!existsSync(file)) throw new InputError('REPOSITORY_INVALID', `${dir} is not a custody TUF repository (no repository.json)`);
    const state = JSON.parse(readFileSync(file, 'utf8')) as RepoState;
    if (state.format !== 'custody-tuf-repository/v1') throw new InputError('REPOSITORY_INVALID', `${file}: unknown format`);
    const repo = new TufRepository(dir, state, now);
    repo.signers = [...signers];
    return repo;
  }

  /** TUF spec §4: creates root, targets, snapshot and timestamp (unpublished until `publish`). */
  static init(dir: string, options: InitOptions, signers: readonly Signer[] = []): TufRepository {
    if (existsSync(join(dir, 'repository.json'))) throw new InputError('USAGE', `${dir} already holds a repository`);
    for (const [what, keys, threshold] of [
      ['root', options.rootKeys, options.rootThreshold],
      ['targets', options.targetsKeys, options.targetsThreshold],
    ] as const) {
      if (keys.length === 0) throw new InputError('USAGE', `${what} needs at least one key`);
      if (threshold < 1 || threshold > new Set(keys.map(tufKeyId)).size) throw new InputError('USAGE', `${what} threshold ${threshold} needs as many distinct keys`);
    }
    if (options.onlineKeys.length === 0) throw new InputError('USAGE', 'the online roles need a key');
    mkdirSync(join(dir, 'staged'), { recursive: true });
    mkdirSync(join(dir, 'metadata'), { recursive: true });
    mkdirSync(join(dir, 'targets'), { recursive: true });
    const expiry = { ...DEFAULT_EXPIRY, ...options.expiry };
    const state: RepoState = {
      format: 'custody-tuf-repository/v1',
      expiry,
      parents: {},
      succinct: {},
      pending: ['root', 'targets'],
      published: { root: 0, snapshot: 0, timestamp: 0 },
      ...(options.onlineKeyPath === undefined ? {} : { onlineKey: options.onlineKeyPath }),
    };
    const now = options.now ?? new Date();
    const repo = new TufRepository(dir, state, () => options.now ?? new Date());
    repo.signers = [...signers];
    const root = new Root({ version: 1, specVersion: SPEC_VERSION, expires: repo.expiresFor('root', now), consistentSnapshot: true });
    const add = (keys: readonly PublicKey[], role: string): void => keys.forEach((k) => root.addKey(tufKey(k), role));
    add(options.rootKeys, 'root');
    add(options.targetsKeys, 'targets');
    add(options.onlineKeys, 'snapshot');
    add(options.onlineKeys, 'timestamp');
    const rootJson = root.toJSON();
    const roles = rootJson['roles'] as Record<string, { keyids: string[]; threshold: number }>;
    roles['root']!.threshold = options.rootThreshold;
    roles['targets']!.threshold = options.targetsThreshold;
    repo.put('root', parseMetadata(MetadataKind.Root, { signed: rootJson, signatures: [] }, 'root'));
    repo.put('targets', new Metadata(new Targets({ version: 1, specVersion: SPEC_VERSION, expires: repo.expiresFor('targets', now) })));
    repo.put('snapshot', new Metadata(new Snapshot({ version: 1, specVersion: SPEC_VERSION, expires: repo.expiresFor('snapshot', now), meta: {} })));
    repo.put('timestamp', new Metadata(new Timestamp({ version: 1, specVersion: SPEC_VERSION, expires: repo.expiresFor('timestamp', now), snapshotMeta: new MetaFile({ version: 1 }) })));
    // snapshot and timestamp are written by publish; they are staged only as templates here.
    repo.changed.delete('snapshot');
    repo.changed.delete('timestamp');
    return repo;
  }

  private expiresFor(role: string, now: Date): string {
    const e = this.state.expiry;
    const seconds = isTopLevel(role) ? e[role] : e.delegated;
    return formatTufTime(new Date(Math.floor(now.getTime() / 1000) * 1000 + seconds * 1000));
  }

  /** Adds signers (offline keys given to one command). */
  addSigners(signers: readonly Signer[]): void {
    this.signers.push(...signers);
  }

  /** Expiry periods (seconds) of new versions. */
  get expiryPeriods(): ExpiryPeriods {
    return { ...this.state.expiry };
  }

  /** Changes expiry periods (seconds) for versions made from now on; kept by save(). */
  setExpiry(periods: Partial<ExpiryPeriods>): void {
    for (const [role, seconds] of Object.entries(periods)) {
      if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new InputError('USAGE', `expiry of ${role} must be a positive number of seconds`);
    }
    this.state.expiry = { ...this.state.expiry, ...periods };
  }

  get onlineKeyPath(): string | undefined {
    return this.state.onlineKey;
  }

  setOnlineKeyPath(path: string): void {
    this.state.onlineKey = path;
  }

  // ---- loading and storing --------------------------------------------------------------------

  private stagedPath(role: string): string {
    return join(this.dir, 'staged', `${role}.json`);
  }

  has(role: string): boolean {
    return this.cache.has(role) || existsSync(this.stagedPath(role));
  }

  load(role: string): AnyMetadata {
    const cached = this.cache.get(role);
    if (cached !== undefined) return cached;
    const path = this.stagedPath(role);
    if (!existsSync(path)) throw new InputError('USAGE', `no role '${role}' in ${this.dir}`);
    const md = parseStaged(kindOf(role), JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
    this.cache.set(role, md);
    return md;
  }

  /** A targets role's `targets` map as plain JSON (the models object may not hold it). */
  private targetsJson(md: AnyMetadata): Record<string, JsonObject> {
    const t = (signedJson(md) as Record<string, unknown>)['targets'];
    return typeof t === 'object' && t !== null ? (t as Record<string, JsonObject>) : {};
  }

  private loadTargets(role: string): Metadata<Targets> {
    const md = this.load(role);
    if (md.signed.type !== MetadataKind.Targets) throw new InputError('USAGE', `'${role}' is not a targets role`);
    return md as Metadata<Targets>;
  }

  private loadRoot(): Metadata<Root> {
    return this.load('root') as Metadata<Root>;
  }

  private put(role: string, md: AnyMetadata): void {
    this.cache.set(role, md);
    this.changed.add(role);
    if (role === 'snapshot' || role === 'timestamp') return;
    this.pendingSet ??= new Set(this.state.pending);
    if (!this.pendingSet.has(role)) {
      this.pendingSet.add(role);
      this.state.pending.push(role);
    }
  }

  /** Last published version of a role (0 = never published). */
  private publishedVersion(role: string): number {
    if (role === 'root') return this.state.published.root;
    if (this.state.published.snapshot === 0) return 0;
    return this.snapshotMeta()[`${role}.json`]?.version ?? 0;
  }

  private rawSnapshotMeta: Record<string, { version: number }> | undefined;
  private pendingSet: Set<string> | undefined;

  /**
   * The published snapshot's meta map, read as plain JSON: @tufjs/models (de)serializes the map
   * by copying it once per entry (O(n²)), which hashed-bin repositories cannot afford.
   */
  private snapshotMeta(): Record<string, { version: number }> {
    if (this.rawSnapshotMeta === undefined) {
      const doc = JSON.parse(readFileSync(this.stagedPath('snapshot'), 'utf8')) as { signed?: { meta?: Record<string, { version: number }> } };
      this.rawSnapshotMeta = doc.signed?.meta ?? {};
    }
    return this.rawSnapshotMeta;
  }

  /**
   * Replaces a role's signed part: the version goes up once per publish cycle (TUF spec §5.3.5 /
   * §5.5.5 require increasing versions), expiry is renewed, old signatures are dropped.
   */
  private modify(role: string, change: (signed: Record<string, unknown>) => void): void {
    const md = this.load(role);
    // A copy: the cached JSON of the current version must not change (root's nested maps are
    // edited in place by rotate, so root is copied deeply; targets changes copy their maps).
    const cached = signedJson(md) as Record<string, unknown>;
    const signed = md.signed.type === MetadataKind.Targets ? { ...cached } : structuredClone<Record<string, unknown>>(cached);
    change(signed);
    const published = this.publishedVersion(role);
    signed['version'] = Math.max(md.signed.version, published + 1);
    signed['expires'] = this.expiresFor(role, this.now());
    this.put(role, parseStaged(kindOf(role), { signed, signatures: [] }, role));
  }

  /** Signs every role changed in this session with the available keys and writes them to staged/. */
  async save(): Promise<void> {
    for (const role of this.changed) {
      const md = this.load(role);
      const { keyIds } = this.roleKeys(role);
      const extra = role === 'root' ? this.previousRootKeyIds() : [];
      const usable = this.signers.filter((s) => keyIds.includes(tufKeyId(s.publicKey)) || extra.includes(tufKeyId(s.publicKey)));
      await signMetadata(md, dedupe(usable));
      writeFileAtomic(this.stagedPath(role), serialize(md), { fsync: false });
    }
    this.changed.clear();
    writeFileAtomic(join(this.dir, 'repository.json'), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  // ---- keys and delegations --------------------------------------------------------------------

  /** The keys and threshold that must sign `role`, as its delegator (staged) says. */
  roleKeys(role: string): { keys: Record<string, Key>; keyIds: string[]; threshold: number } {
    if (isTopLevel(role)) {
      const root = this.loadRoot().signed;
      const r = root.roles[role];
      if (r === undefined) throw new InputError('REPOSITORY_INVALID', `root has no ${role} role`);
      return { keys: root.keys, keyIds: r.keyIDs, threshold: r.threshold };
    }
    const parent = this.parentOf(role);
    const d = this.loadTargets(parent).signed.delegations;
    const named = d?.roles?.[role];
    const r = named ?? (d?.succinctRoles?.isDelegatedRole(role) === true ? d.succinctRoles : undefined);
    if (d === undefined || r === undefined) throw new InputError('REPOSITORY_INVALID', `${parent} does not delegate to ${role}`);
    return { keys: d.keys, keyIds: r.keyIDs, threshold: r.threshold };
  }

  private previousRootKeyIds(): string[] {
    const v = this.state.published.root;
    if (v === 0) return [];
    const old = this.publishedRoot(v);
    return old.signed.roles['root']?.keyIDs ?? [];
  }

  private publishedRoot(version: number): Metadata<Root> {
    const path = join(this.dir, 'metadata', `${version}.root.json`);
    return parseMetadata(MetadataKind.Root, JSON.parse(readFileSync(path, 'utf8')) as unknown, path) as Metadata<Root>;
  }

  parentOf(role: string): string {
    const named = this.state.parents[role];
    if (named !== undefined) return named;
    for (const [parent, prefix] of Object.entries(this.state.succinct)) {
      if (role.startsWith(`${prefix}-`) && this.loadTargets(parent).signed.delegations?.succinctRoles?.isDelegatedRole(role) === true) return parent;
    }
    throw new InputError('USAGE', `no delegated role '${role}'`);
  }

  /** TUF spec §4.5 delegations: adds or replaces a named delegation from `from` (default targets). */
  delegate(options: { role: string; from?: string; paths: readonly string[]; keys: readonly PublicKey[]; threshold: number; terminating?: boolean }): void {
    const from = options.from ?? 'targets';
    checkRoleName(options.role);
    if (isTopLevel(options.role)) throw new InputError('USAGE', `'${options.role}' is a top-level role`);
    if (options.paths.length === 0) throw new InputError('USAGE', 'a delegation needs at least one path pattern');
    const keyIds = [...new Set(options.keys.map(tufKeyId))];
    if (options.threshold < 1 || options.threshold > keyIds.length) throw new InputError('USAGE', `threshold ${options.threshold} needs as many distinct keys (${keyIds.length} given)`);
    const existingParent = this.state.parents[options.role];
    if (existingParent !== undefined && existingParent !== from) throw new InputError('USAGE', `${options.role} is already delegated by ${existingParent}`);
    const parent = this.loadTargets(from).signed;
    if (parent.delegations?.succinctRoles !== undefined) throw new InputError('USAGE', `${from} delegates to hashed bins; TAP 15 allows no named delegations beside them`);
    // TUF spec §4.5: delegations.roles is an ordered list; a replaced role keeps its place.
    const roles = Object.values(parent.delegations?.roles ?? {}).map((r) => r.toJSON());
    const entry = { name: options.role, keyids: keyIds, threshold: options.threshold, terminating: options.terminating === true, paths: [...options.paths] };
    const at = roles.findIndex((r) => r['name'] === options.role);
    if (at >= 0) roles[at] = entry;
    else roles.push(entry);
    const keys = this.keysInUse(parent.delegations?.keys ?? {}, roles.flatMap((r) => r['keyids'] as string[]), options.keys);
    this.modify(from, (signed) => {
      signed['delegations'] = { keys, roles };
    });
    this.state.parents[options.role] = from;
    if (!this.has(options.role)) {
      this.put(options.role, new Metadata(new Targets({ version: 1, specVersion: SPEC_VERSION, expires: this.expiresFor(options.role, this.now()) })));
    } else {
      // New keys must sign the role again: give it a new version under them.
      this.modify(options.role, () => undefined);
    }
  }

  /** Keeps only the keys some role still uses (a revoked key leaves the delegation). */
  private keysInUse(current: Record<string, Key>, usedIds: readonly string[], added: readonly PublicKey[]): Record<string, JsonObject> {
    const all: Record<string, JsonObject> = Object.fromEntries(Object.entries(current).map(([id, k]) => [id, k.toJSON()]));
    for (const k of added) all[tufKeyId(k)] = tufKey(k).toJSON();
    const used = new Set(usedIds);
    return Object.fromEntries(Object.entries(all).filter(([id]) => used.has(id)));
  }

  /** TAP 15: `from` delegates every path to 2^bits hashed bins named `<prefix>-<hex>`. */
  delegateHashBins(options: { from?: string; bits: number; prefix?: string; keys: readonly PublicKey[]; threshold: number }): string[] {
    const from = options.from ?? 'targets';
    const prefix = options.prefix ?? (from === 'targets' ? 'bin' : `${from}-bin`);
    checkRoleName(prefix);
    if (!Number.isInteger(options.bits) || options.bits < 1 || options.bits > 32) throw new InputError('USAGE', 'hashed bins need 1..32 bits');
    const parent = this.loadTargets(from).signed;
    if (parent.delegations !== undefined) throw new InputError('USAGE', `${from} already delegates; hashed bins replace all of its delegations`);
    const keyIds = [...new Set(options.keys.map(tufKeyId))];
    if (options.threshold < 1 || options.threshold > keyIds.length) throw new InputError('USAGE', `threshold ${options.threshold} needs as many distinct keys`);
    const keys = Object.fromEntries(options.keys.map((k) => [tufKeyId(k), tufKey(k).toJSON()]));
    this.modify(from, (signed) => {
      signed['delegations'] = { keys, succinct_roles: { keyids: keyIds, threshold: options.threshold, bit_length: options.bits, name_prefix: prefix } };
    });
    this.state.succinct[from] = prefix;
    const succinct = this.loadTargets(from).signed.delegations?.succinctRoles;
    const names = succinct === undefined ? [] : [...succinct.getRoles()];
    const expires = this.expiresFor(names[0] ?? prefix, this.now());
    for (const name of names) this.put(name, new Metadata(new Targets({ version: 1, specVersion: SPEC_VERSION, expires })));
    return names;
  }

  /**
   * The role that should hold `path`: the first delegation (in order) whose pattern matches, down
   * the tree, ending in a hashed bin where one applies (TUF spec §5.6.7.2 preorder walk).
   */
  resolveRole(path: string, start = 'targets'): string {
    const d = this.loadTargets(start).signed.delegations;
    if (d === undefined) return start;
    if (d.succinctRoles !== undefined) return d.succinctRoles.getRoleForTarget(path);
    for (const role of Object.values(d.roles ?? {})) {
      if (role.isDelegatedPath(path)) return this.resolveRole(path, role.name);
    }
    return start;
  }

  /** Checks that `role` is trusted for `path` all the way up from targets. */
  isAuthorized(role: string, path: string): boolean {
    if (role === 'targets') return true;
    if (isTopLevel(role)) return false;
    const parent = this.parentOf(role);
    const d = this.loadTargets(parent).signed.delegations;
    const named = d?.roles?.[role];
    const ok = named !== undefined ? named.isDelegatedPath(path) : d?.succinctRoles?.getRoleForTarget(path) === role;
    return ok && this.isAuthorized(parent, path);
  }

  /** Adds targets (grouped per role: one new version per role). Returns the role of each. */
  addTargets(inputs: readonly TargetInput[], role?: string): string[] {
    const byRole = new Map<string, TargetInput[]>();
    const roles: string[] = [];
    for (const t of inputs) {
      checkTargetPath(t.path);
      let r = role ?? this.resolveRole(t.path);
      if (role !== undefined) {
        if (!this.isAuthorized(role, t.path)) throw new PolicyError('ACCESS_DENIED', `role ${role} is not delegated the path ${t.path}`);
        const d = this.loadTargets(role).signed.delegations;
        if (d?.succinctRoles !== undefined) r = d.succinctRoles.getRoleForTarget(t.path);
      }
      roles.push(r);
      byRole.set(r, [...(byRole.get(r) ?? []), t]);
    }
    for (const [r, list] of byRole) {
      this.modify(r, (signed) => {
        const targets = { ...(signed['targets'] as Record<string, unknown>) };
        for (const t of list) {
          const file = new TargetFile({ path: t.path, length: t.length, hashes: t.hashes, ...(t.custom === undefined ? {} : { unrecognizedFields: { custom: t.custom as JsonObject } }) });
          targets[t.path] = file.toJSON();
        }
        signed['targets'] = targets;
      });
      for (const t of list) if (t.content !== undefined) this.storeTarget(t.path, t.hashes, t.content);
    }
    return roles;
  }

  /** Removes a target from the role that holds it. */
  removeTarget(path: string, role?: string): string {
    const r = role ?? this.resolveRole(path);
    const md = this.loadTargets(r);
    if (this.targetsJson(md)[path] === undefined) throw new InputError('USAGE', `${r} has no target ${path}`);
    this.modify(r, (signed) => {
      const targets = { ...(signed['targets'] as Record<string, unknown>) };
      delete targets[path];
      signed['targets'] = targets;
    });
    return r;
  }

  /** Consistent snapshots (TUF spec §5.7.3): targets stored as <dir>/<sha256>.<name>. */
  private storeTarget(path: string, hashes: Record<string, string>, content: Uint8Array): void {
    const sha = hashes['sha256'];
    if (sha === undefined || digestBytes(content) !== sha) throw new InputError('INPUT_INVALID', `${path}: content does not match its sha256`);
    const { dir, base } = posix.parse(path);
    const file = join(this.dir, 'targets', dir, `${sha}.${base}`);
    if (!existsSync(file)) writeFileAtomic(file, content, { fsync: false });
  }

  /** A target as a role holds it. */
  target(path: string): { role: string; file: TargetFile } | undefined {
    const role = this.resolveRole(path);
    const json = this.targetsJson(this.loadTargets(role))[path];
    return json === undefined ? undefined : { role, file: TargetFile.fromJSON(path, json) };
  }

  // ---- root rotation ---------------------------------------------------------------------------

  /**
   * TUF spec §5.3: a new root version, to be signed by a threshold of the old root keys and of
   * the new ones. Changes the keys of any top-level role (a revoked key is simply removed).
   */
  rotate(options: { role: TopLevelRole; add: readonly PublicKey[]; remove: readonly string[]; threshold?: number }): void {
    const root = this.loadRoot().signed;
    const current = root.roles[options.role];
    if (current === undefined) throw new InputError('REPOSITORY_INVALID', `root has no ${options.role}`);
    const removeIds = options.remove.map((r) => this.resolveKeyId(r, current.keyIDs));
    const keyIds = [...new Set([...current.keyIDs.filter((id) => !removeIds.includes(id)), ...options.add.map(tufKeyId)])];
    const threshold = options.threshold ?? current.threshold;
    if (keyIds.length === 0 || threshold < 1 || threshold > keyIds.length) throw new InputError('USAGE', `${options.role} would have ${keyIds.length} key(s) for threshold ${threshold}`);
    this.modify('root', (signed) => {
      const roles = signed['roles'] as Record<string, { keyids: string[]; threshold: number }>;
      roles[options.role] = { keyids: keyIds, threshold };
      const keys = { ...(signed['keys'] as Record<string, unknown>) };
      for (const k of options.add) keys[tufKeyId(k)] = tufKey(k).toJSON();
      const used = new Set(Object.values(roles).flatMap((r) => r.keyids));
      signed['keys'] = Object.fromEntries(Object.entries(keys).filter(([id]) => used.has(id)));
    });
    // Metadata signed only by removed keys is no longer trusted: sign it again under the new keys.
    if (options.role === 'targets') this.modify('targets', () => undefined);
  }

  /** A key id, or a unique prefix of one (at least 8 hex digits), among `candidates`. */
  private resolveKeyId(text: string, candidates: readonly string[]): string {
    const matches = candidates.filter((id) => id.startsWith(text.toLowerCase()));
    if (text.length < 8 || matches.length !== 1) throw new InputError('USAGE', `'${text}' names no single key of the role (give at least 8 hex digits of its key id)`);
    return matches[0] ?? text;
  }

  // ---- signing -----------------------------------------------------------------------------------

  /** Signs a staged role with the session's signers (offline keys). */
  async sign(role: string): Promise<string[]> {
    const ids = await this.signWithSession(role);
    if (ids.length === 0) throw new InputError('USAGE', `none of the given keys may sign ${role}`);
    return ids;
  }

  private async signWithSession(role: string): Promise<string[]> {
    const md = this.load(role);
    const { keyIds } = this.roleKeys(role);
    const extra = role === 'root' ? this.previousRootKeyIds() : [];
    const usable = dedupe(this.signers.filter((s) => keyIds.includes(tufKeyId(s.publicKey)) || extra.includes(tufKeyId(s.publicKey))));
    if (usable.length === 0) return [];
    await signMetadata(md, usable);
    writeFileAtomic(this.stagedPath(role), serialize(md), { fsync: false });
    return usable.map((s) => tufKeyId(s.publicKey));
  }

  /** The staged metadata of a role, for signing elsewhere (offline multi-party signing). */
  exportRole(role: string): JsonObject {
    return metadataJson(this.load(role)) as JsonObject;
  }

  /**
   * Merges signatures from a copy of the role signed elsewhere. The copy's signed part must be
   * byte-identical (canonical JSON) to the staged one; each signature must verify with a key the
   * role (or, for root, the previous root) trusts.
   */
  importSignatures(role: string, json: unknown): string[] {
    const md = this.load(role);
    const theirs = parseMetadata(kindOf(role), json, `signatures for ${role}`);
    if (Buffer.compare(Buffer.from(signedBytes(theirs)), Buffer.from(signedBytes(md))) !== 0) {
      throw new VerificationError('DIGEST_MISMATCH', `the signed copy of ${role} is not the staged version ${md.signed.version} (stale export?)`);
    }
    const { keys, keyIds } = this.roleKeys(role);
    const allKeys: Record<string, Key> = { ...keys };
    const allIds = [...keyIds];
    if (role === 'root' && this.state.published.root > 0) {
      const old = this.publishedRoot(this.state.published.root).signed;
      Object.assign(allKeys, old.keys);
      allIds.push(...(old.roles['root']?.keyIDs ?? []));
    }
    const good = validSigners(theirs, allKeys, allIds);
    const added: string[] = [];
    for (const id of Object.keys(theirs.signatures)) {
      if (!good.has(id)) throw new VerificationError('SIGNATURE_INVALID', `signature by ${id.slice(0, 16)} on ${role} does not verify with a key trusted for it`);
      const sig = theirs.signatures[id];
      if (sig !== undefined && md.signatures[id] === undefined) {
        md.signatures[id] = sig;
        added.push(id);
      }
    }
    writeFileAtomic(this.stagedPath(role), serialize(md), { fsync: false });
    return added;
  }

  // ---- status and publishing ---------------------------------------------------------------------

  private missingSignatures(role: string): number {
    const md = this.load(role);
    const { keys, keyIds, threshold } = this.roleKeys(role);
    let missing = Math.max(0, threshold - validSigners(md, keys, keyIds).size);
    if (role === 'root' && this.state.published.root > 0 && md.signed.version > this.state.published.root) {
      // TUF spec §5.3.4: the new root must also be signed by a threshold of the trusted (old) root.
      const old = this.publishedRoot(this.state.published.root).signed;
      const r = old.roles['root'];
      if (r !== undefined) missing = Math.max(missing, r.threshold - validSigners(md, old.keys, r.keyIDs).size);
    }
    return missing;
  }

  /** Named roles to report (hashed bins are summarized, not listed one by one). */
  listRoles(): string[] {
    return [...TOP_LEVEL_ROLES, ...Object.keys(this.state.parents)];
  }

  status(role: string): RoleStatus {
    const md = this.load(role);
    const { keys, keyIds, threshold } = this.roleKeys(role);
    const signedBy = [...validSigners(md, keys, keyIds)];
    return {
      role,
      version: md.signed.version,
      expires: md.signed.expires,
      expired: md.signed.isExpired(this.now()),
      threshold,
      keyids: keyIds,
      signedBy,
      missing: this.missingSignatures(role),
      pending: this.state.pending.includes(role),
      targets: md.signed.type === MetadataKind.Targets ? Object.keys(this.targetsJson(md)).length : 0,
    };
  }

  pendingRoles(): string[] {
    return [...this.state.pending];
  }

  binSummary(): { prefix: string; from: string; bins: number; pending: number }[] {
    return Object.entries(this.state.succinct).map(([from, prefix]) => {
      const s = this.loadTargets(from).signed.delegations?.succinctRoles;
      return { prefix, from, bins: s?.numberOfBins ?? 0, pending: this.state.pending.filter((p) => p.startsWith(`${prefix}-`)).length };
    });
  }

  /** Roles whose every signature would come from the session's signers (the online roles). */
  canSignAlone(role: string): boolean {
    const { keyIds, threshold } = this.roleKeys(role);
    const mine = new Set(this.signers.map((s) => tufKeyId(s.publicKey)).filter((id) => keyIds.includes(id)));
    return mine.size >= threshold;
  }

  /**
   * TUF spec §5 (repository side): writes every pending role as a new consistent snapshot, then
   * a new snapshot and timestamp (signed with the online key). Refuses while any pending role
   * lacks its threshold of signatures. With `refreshWithin` (seconds), roles the session can sign
   * alone (online roles, hashed bins) that expire within that window get a new version too.
   * With `keepUnsigned` (the server), roles short of signatures (offline work in progress, e.g. a
   * root rotation awaiting signers) stay pending instead of refusing: the rest is published and
   * the snapshot and timestamp are renewed, so online metadata never expires while offline
   * signers are away.
   */
  async publish(options: { refreshWithin?: number; keepUnsigned?: boolean } = {}): Promise<PublishResult> {
    const now = this.now();
    if (options.refreshWithin !== undefined) await this.refreshExpiring(now, options.refreshWithin);
    // Pending roles still short of signatures get those of the session's keys that may sign them.
    for (const role of this.state.pending) {
      if (this.missingSignatures(role) > 0) await this.signWithSession(role);
    }
    const unsigned = this.state.pending.map((r) => [r, this.missingSignatures(r)] as const).filter(([, n]) => n > 0);
    const kept = options.keepUnsigned === true ? unsigned.map(([r]) => r) : [];
    const ready = this.state.pending.filter((r) => !kept.includes(r));
    if (unsigned.length > 0 && options.keepUnsigned !== true) {
      throw new VerificationError('THRESHOLD_NOT_MET', `not enough signatures to publish: ${unsigned.map(([r, n]) => `${r} needs ${n} more`).join(', ')}`);
    }
    const meta = join(this.dir, 'metadata');
    const rootMd = this.loadRoot();
    let rootVersion = this.state.published.root;
    if (ready.includes('root')) {
      rootVersion = rootMd.signed.version;
      writeFileAtomic(join(meta, `${rootVersion}.root.json`), serialize(rootMd));
      writeFileAtomic(join(meta, 'root.json'), serialize(rootMd));
    }
    const metaFiles: Record<string, { version: number }> = this.state.published.snapshot === 0 ? {} : { ...this.snapshotMeta() };
    const published: string[] = [];
    for (const role of ready) {
      if (role === 'root') continue;
      const md = this.load(role);
      writeFileAtomic(join(meta, `${md.signed.version}.${role}.json`), serialize(md), { fsync: false });
      metaFiles[`${role}.json`] = { version: md.signed.version };
      published.push(role);
    }
    // TUF spec §5.5: the snapshot lists the version of every targets metadata file. Written as
    // plain JSON (same form as models' Snapshot.toJSON) for the reason given at snapshotMeta().
    const snapshotVersion = this.state.published.snapshot + 1;
    const snapshotSigned = { _type: 'snapshot', spec_version: SPEC_VERSION, version: snapshotVersion, expires: this.expiresFor('snapshot', now), meta: metaFiles };
    const snapshotBytes = JSON.stringify({ signatures: await this.signOnlineRaw('snapshot', snapshotSigned), signed: snapshotSigned });
    writeFileAtomic(join(meta, `${snapshotVersion}.snapshot.json`), snapshotBytes);
    // TUF spec §5.4: the timestamp pins the snapshot's version, length and hash.
    const timestampVersion = this.state.published.timestamp + 1;
    const timestamp = new Metadata(
      new Timestamp({
        version: timestampVersion,
        specVersion: SPEC_VERSION,
        expires: this.expiresFor('timestamp', now),
        snapshotMeta: new MetaFile({ version: snapshotVersion, length: Buffer.byteLength(snapshotBytes), hashes: { sha256: digestBytes(snapshotBytes) } }),
      }),
    );
    await this.signOnline('timestamp', timestamp);
    writeFileAtomic(join(meta, 'timestamp.json'), serialize(timestamp));
    this.cache.delete('snapshot');
    this.rawSnapshotMeta = metaFiles;
    this.cache.set('timestamp', timestamp);
    writeFileAtomic(this.stagedPath('snapshot'), snapshotBytes, { fsync: false });
    writeFileAtomic(this.stagedPath('timestamp'), serialize(timestamp), { fsync: false });
    this.state.published = { root: rootVersion, snapshot: snapshotVersion, timestamp: timestampVersion };
    this.state.pending = kept;
    this.pendingSet = undefined;
    await this.save();
    return { snapshotVersion, timestampVersion, rootVersion, roles: published };
  }

  /** Signatures of the online key(s) over plain signed JSON (TUF spec §4.2: canonical JSON). */
  private async signOnlineRaw(role: 'snapshot', signed: Record<string, unknown>): Promise<{ keyid: string; sig: string }[]> {
    const { keyIds, threshold } = this.roleKeys(role);
    const usable = dedupe(this.signers.filter((s) => keyIds.includes(tufKeyId(s.publicKey))));
    if (usable.length < threshold) throw new VerificationError('THRESHOLD_NOT_MET', `the ${role} key is not available (open the repository with the online key)`);
    const bytes = canonicalJson(signed);
    const out: { keyid: string; sig: string }[] = [];
    for (const s of usable) out.push({ keyid: tufKeyId(s.publicKey), sig: Buffer.from(await s.sign(bytes)).toString('hex') });
    return out;
  }

  private async signOnline(role: 'snapshot' | 'timestamp', md: AnyMetadata): Promise<void> {
    const { keys, keyIds, threshold } = this.roleKeys(role);
    const usable = dedupe(this.signers.filter((s) => keyIds.includes(tufKeyId(s.publicKey))));
    await signMetadata(md, usable);
    if (validSigners(md, keys, keyIds).size < threshold) {
      throw new VerificationError('THRESHOLD_NOT_MET', `the ${role} key is not available (open the repository with the online key)`);
    }
  }

  /** Online-signed targets roles about to expire get a new version (server: re-sign before expiry). */
  private async refreshExpiring(now: Date, within: number): Promise<void> {
    const horizon = new Date(now.getTime() + within * 1000);
    const roles = ['targets', ...Object.keys(this.state.parents)];
    for (const [from] of Object.entries(this.state.succinct)) {
      const s = this.loadTargets(from).signed.delegations?.succinctRoles;
      if (s !== undefined) roles.push(...s.getRoles());
    }
    for (const role of roles) {
      if (this.state.pending.includes(role) || !this.canSignAlone(role)) continue;
      if (this.load(role).signed.isExpired(horizon)) this.modify(role, () => undefined);
    }
    await this.save();
  }

  /** Published metadata file names in R/metadata (for serving and tests). */
  publishedFiles(): string[] {
    const dir = join(this.dir, 'metadata');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  }
}

function dedupe(signers: readonly Signer[]): Signer[] {
  const seen = new Set<string>();
  return signers.filter((s) => {
    const id = tufKeyId(s.publicKey);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Signs an exported role file with local keys (the offline signer's side of multi-party signing). */
export async function signExported(json: unknown, signers: readonly Signer[]): Promise<JsonObject> {
  const signed = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['signed'] : undefined;
  const type = typeof signed === 'object' && signed !== null ? (signed as Record<string, unknown>)['_type'] : undefined;
  if (type !== 'root' && type !== 'targets' && type !== 'snapshot' && type !== 'timestamp') throw new InputError('REPOSITORY_INVALID', 'not a TUF metadata file');
  const md = parseMetadata(type as MetadataKind, json, 'exported role');
  await signMetadata(md, signers);
  return md.toJSON();
}
