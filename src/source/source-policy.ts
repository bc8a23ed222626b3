// The source policy (source.yaml): who exists (identities with emails and keys), teams, which
// identities may sign for which refs (protected namespaces), how many independent approvals a ref
// needs, and CODEOWNERS-like path owners. Parsed strictly; documented in docs/source.md.
import { createHash } from 'node:crypto';
import ignore from 'ignore';
import { parse as parseYaml } from 'yaml';
import { InputError, publicKeyFromPem, type PublicKey } from '../core/index.ts';
import { parseAllowedSigners, type AllowedSigner } from './allowed-signers.ts';
import { parseSshPublicKeyLine, sshKeyAsPublicKey, type SshPublicKey } from './ssh-public-key.ts';

export interface Identity {
  readonly name: string;
  readonly emails: readonly string[];
  /** SSH keys (commit and tag signatures). */
  readonly sshKeys: readonly SshPublicKey[];
  /** Keys for DSSE (reviews, log entries): the PEM keys plus the SSH keys custody can use. */
  readonly publicKeys: readonly PublicKey[];
  /** allowed_signers validity windows and namespaces for SSH keys that came from such a file. */
  readonly allowedSigners: readonly AllowedSigner[];
  /** Armored OpenPGP public keys (commit signatures verified through gpg). */
  readonly pgpKeys: readonly string[];
}

export interface RefRule {
  readonly pattern: string;
  readonly matcher: RegExp;
  /** Identities that may sign commits reaching this ref ('write access'). */
  readonly signers: ReadonlySet<string>;
  /** Protected: history continuity is checked against the reference state log. */
  readonly protected: boolean;
  /** Independent approvals required for each change landing on the ref (0 = none). */
  readonly reviews: number;
}

export interface OwnerRule {
  readonly pattern: string;
  readonly owners: ReadonlySet<string>;
  readonly matches: (path: string) => boolean;
}

export interface SourcePolicy {
  readonly identities: ReadonlyMap<string, Identity>;
  readonly teams: ReadonlyMap<string, readonly string[]>;
  readonly refs: readonly RefRule[];
  readonly owners: readonly OwnerRule[];
  /** SSHSIG namespace commits must be signed in (git uses "git"). */
  readonly namespace: string;
  /** Identities allowed to append to the reference state log (default: every identity). */
  readonly recorders: ReadonlySet<string>;
  /** sha256 of the policy file's bytes (for the VSA's policy.digest). */
  readonly digest: string;
}

function fail(message: string): never {
  throw new InputError('INPUT_INVALID', `source policy: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`${where} must be a list of strings`);
  return v;
}

function checkKeys(v: unknown, where: string): Set<string> {
  if (!isRecord(v)) fail(`${where} must be a mapping`);
  return new Set(Object.keys(v));
}

/** Ref glob: `*` matches within one path segment, `**` across segments; anything else literally. */
export function refPatternToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (ch === '*') re += '[^/]*';
    else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

interface MutableIdentity {
  name: string;
  emails: string[];
  sshKeys: SshPublicKey[];
  publicKeys: PublicKey[];
  allowedSigners: AllowedSigner[];
  pgpKeys: string[];
}

function parseKey(text: string, id: MutableIdentity): void {
  if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
    id.pgpKeys.push(text);
    return;
  }
  if (text.includes('-----BEGIN')) {
    id.publicKeys.push(publicKeyFromPem(text));
    return;
  }
  const key = parseSshPublicKeyLine(text);
  id.sshKeys.push(key);
  const pk = sshKeyAsPublicKey(key);
  if (pk !== undefined) id.publicKeys.push(pk);
}

function parseIdentities(v: unknown): Map<string, MutableIdentity> {
  const out = new Map<string, MutableIdentity>();
  if (v === undefined) return out;
  if (!isRecord(v)) fail("'identities' must be a mapping of name → { emails, keys }");
  for (const [name, body] of Object.entries(v)) {
    if (!isRecord(body)) fail(`identity '${name}' must be a mapping`);
    for (const k of checkKeys(body, `identity '${name}'`)) if (!['emails', 'keys'].includes(k)) fail(`identity '${name}': unknown field '${k}'`);
    const id: MutableIdentity = { name, emails: stringList(body['emails'], `identity '${name}'.emails`).map((e) => e.toLowerCase()), sshKeys: [], publicKeys: [], allowedSigners: [], pgpKeys: [] };
    for (const key of stringList(body['keys'], `identity '${name}'.keys`)) parseKey(key, id);
    out.set(name, id);
  }
  return out;
}

/** Adds allowed_signers entries: a principal that is an identity's email joins it; others become identities. */
function mergeAllowedSigners(ids: Map<string, MutableIdentity>, entries: AllowedSigner[]): void {
  for (const entry of entries) {
    for (const principal of entry.principals) {
      const lower = principal.toLowerCase();
      let id = [...ids.values()].find((i) => i.emails.includes(lower) || i.name === principal);
      if (id === undefined) {
        id = { name: principal, emails: principal.includes('@') ? [lower] : [], sshKeys: [], publicKeys: [], allowedSigners: [], pgpKeys: [] };
        ids.set(principal, id);
      }
      id.sshKeys.push(entry.key);
      id.allowedSigners.push(entry);
      const pk = sshKeyAsPublicKey(entry.key);
      if (pk !== undefined) id.publicKeys.push(pk);
    }
  }
}

function expandMembers(names: string[], teams: Map<string, string[]>, ids: Map<string, MutableIdentity>, where: string): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    if (n === '*') ids.forEach((_, k) => out.add(k));
    else if (teams.has(n)) for (const m of teams.get(n) ?? []) out.add(m);
    else if (ids.has(n)) out.add(n);
    else fail(`${where}: '${n}' is neither an identity nor a team`);
  }
  return out;
}

function parseRefRules(v: unknown, teams: Map<string, string[]>, ids: Map<string, MutableIdentity>): RefRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail("'refs' must be a list");
  return v.map((r: unknown, i) => {
    const where = `refs[${i}]`;
    if (!isRecord(r)) fail(`${where} must be a mapping`);
    for (const k of Object.keys(r)) if (!['pattern', 'signers', 'protected', 'reviews'].includes(k)) fail(`${where}: unknown field '${k}'`);
    const pattern = r['pattern'];
    if (typeof pattern !== 'string' || !pattern.startsWith('refs/')) fail(`${where}.pattern must be a full ref pattern (refs/heads/main, refs/tags/*)`);
    const prot = r['protected'] ?? false;
    if (typeof prot !== 'boolean') fail(`${where}.protected must be true or false`);
    let reviews = r['reviews'] ?? 0;
    if (isRecord(reviews)) reviews = reviews['required'] ?? 0;
    if (typeof reviews !== 'number' || !Number.isInteger(reviews) || reviews < 0) fail(`${where}.reviews must be a non-negative integer (or { required: N })`);
    return {
      pattern,
      matcher: refPatternToRegExp(pattern),
      signers: expandMembers(stringList(r['signers'], `${where}.signers`), teams, ids, `${where}.signers`),
      protected: prot,
      reviews,
    };
  });
}

function parseOwnerRules(v: unknown, teams: Map<string, string[]>, ids: Map<string, MutableIdentity>): OwnerRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail("'owners' must be a list");
  return v.map((r: unknown, i) => {
    const where = `owners[${i}]`;
    if (!isRecord(r)) fail(`${where} must be a mapping`);
    const path = r['path'];
    if (typeof path !== 'string' || path === '') fail(`${where}.path must be a gitignore-style pattern`);
    const owners = expandMembers(stringList(r['owners'], `${where}.owners`), teams, ids, `${where}.owners`);
    // CODEOWNERS patterns follow gitignore rules; a leading "/" anchors at the repository root.
    const ig = ignore().add(path);
    return { pattern: path, owners, matches: (p: string) => ig.ignores(p) };
  });
}

export interface PolicyFiles {
  /** Reads a file named by the policy (allowedSigners), relative to the policy file. */
  readFile(relativePath: string): string;
}

export function parseSourcePolicy(text: string, files?: PolicyFiles): SourcePolicy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError('INPUT_INVALID', `source policy: not valid YAML (${(e as Error).message.split('\n')[0] ?? ''})`, { cause: e });
  }
  if (!isRecord(doc)) fail('must be a YAML mapping');
  for (const k of Object.keys(doc)) {
    if (!['version', 'identities', 'allowedSigners', 'teams', 'refs', 'owners', 'namespace', 'recorders'].includes(k)) fail(`unknown top-level field '${k}'`);
  }
  if (doc['version'] !== 1) fail("'version: 1' is required");
  const ids = parseIdentities(doc['identities']);
  const allowedFile = doc['allowedSigners'];
  if (allowedFile !== undefined) {
    if (typeof allowedFile !== 'string') fail("'allowedSigners' must be a file name");
    if (files === undefined) fail("'allowedSigners' needs the policy to be loaded from a file");
    mergeAllowedSigners(ids, parseAllowedSigners(files.readFile(allowedFile)));
  }
  const teams = new Map<string, string[]>();
  const teamDoc = doc['teams'];
  if (teamDoc !== undefined) {
    if (!isRecord(teamDoc)) fail("'teams' must be a mapping of team → identities");
    for (const [team, members] of Object.entries(teamDoc)) {
      if (ids.has(team)) fail(`team '${team}' has the name of an identity`);
      const list = stringList(members, `teams.${team}`);
      for (const m of list) if (!ids.has(m)) fail(`team '${team}': unknown identity '${m}'`);
      teams.set(team, list);
    }
  }
  const namespace = doc['namespace'] ?? 'git';
  if (typeof namespace !== 'string' || namespace === '') fail("'namespace' must be a non-empty string");
  const recorders = doc['recorders'] === undefined ? new Set(ids.keys()) : expandMembers(stringList(doc['recorders'], 'recorders'), teams, ids, 'recorders');
  return {
    identities: ids,
    teams,
    refs: parseRefRules(doc['refs'], teams, ids),
    owners: parseOwnerRules(doc['owners'], teams, ids),
    namespace,
    recorders,
    digest: createHash('sha256').update(text).digest('hex'),
  };
}

/** The first ref rule whose pattern matches the ref (rules are read top to bottom). */
export function refRuleFor(policy: SourcePolicy, ref: string): RefRule | undefined {
  return policy.refs.find((r) => r.matcher.test(ref));
}

/** CODEOWNERS semantics: the last matching rule decides a path's owners. */
export function ownersOf(policy: SourcePolicy, path: string): OwnerRule | undefined {
  for (let i = policy.owners.length - 1; i >= 0; i--) {
    const rule = policy.owners[i] as OwnerRule;
    if (rule.matches(path)) return rule;
  }
  return undefined;
}

/** The identity holding this SSH key (by blob), with the allowed_signers entry when there is one. */
export function identityForSshKey(policy: SourcePolicy, key: SshPublicKey): { identity: Identity; entries: AllowedSigner[] } | undefined {
  const blob = Buffer.from(key.blob);
  for (const id of policy.identities.values()) {
    if (id.sshKeys.some((k) => blob.equals(k.blob))) return { identity: id, entries: id.allowedSigners.filter((e) => blob.equals(e.key.blob)) };
  }
  return undefined;
}

export function identityForKeyId(policy: SourcePolicy, keyid: string): Identity | undefined {
  for (const id of policy.identities.values()) if (id.publicKeys.some((k) => k.keyid === keyid)) return id;
  return undefined;
}

export function identitiesForEmail(policy: SourcePolicy, email: string): Identity[] {
  const lower = email.toLowerCase();
  return [...policy.identities.values()].filter((i) => i.emails.includes(lower));
}

export function allPublicKeys(policy: SourcePolicy): PublicKey[] {
  return [...policy.identities.values()].flatMap((i) => i.publicKeys);
}
