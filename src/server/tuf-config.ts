// The `tuf:` and `gate:` sections of the server config: the TUF repository `custody serve` serves
// and writes (online keys from files or a key backend, expiry and re-signing periods, admission
// policies, which principals may add targets to which delegated role), and the deploy gate's
// policies. Strict like the rest of the config: unknown keys are errors naming the place.
import { parseDuration, type ExpiryPeriods } from '../tuf/index.ts';
import { isNamespace } from './authz.ts';
import { configFields, isRecord } from './config-fields.ts';
import type { SigningBackendConfig } from './sign-config.ts';

/** A signer of the online roles: a private key file, or a key by name in the key backend. */
export type TufOnlineKey = { file: string; passphraseEnv?: string } | { name: string };

export interface TufRoleGrant {
  /** A delegated role name (or 'targets'); hashed bins are granted through the role that delegates them. */
  role: string;
  /** Actor patterns (fnmatch): `token:<id>`, `oidc:<issuer>#<subject>`. */
  principals: string[];
  /** Tokens scoped to any of these namespaces may add targets to the role ('*' tokens only if listed here). */
  namespaces: string[];
}

export interface PolicyFilesConfig {
  /** Policy files (signed envelopes, or plain documents with allowUnsignedPolicy). */
  policies: string[];
  /** Owner public keys of the signed policies. */
  policyKeys: string[];
  policyThreshold: number;
  allowUnsignedPolicy: boolean;
  /** Sigstore trusted_root.json verifying keyless attestations (identity functionaries, docs/keyless.md). */
  trustedRoot?: string;
}

export interface TufConfig {
  /** Repository directory (made with `custody repo init`). */
  dir: string;
  /** Where `name` online keys live: 'signing' = the signing section's backend. */
  keyBackend: SigningBackendConfig | 'signing';
  onlineKeys: TufOnlineKey[];
  /** Expiry periods (seconds) applied to the roles the server signs; unset ones stay as the repository has them. */
  expiry: Partial<Pick<ExpiryPeriods, 'snapshot' | 'timestamp' | 'delegated'>>;
  /** Online roles expiring within this many seconds are re-signed... */
  refreshWithin: number;
  /** ...checked this often (ms). */
  refreshEveryMs: number;
  admission: PolicyFilesConfig;
  roles: TufRoleGrant[];
  /** With `ca:` enabled, publish trusted_root.json and signing_config.v0.2.json as targets at start (absent: yes). */
  keylessTrust?: boolean;
}

export interface GateServerConfig extends PolicyFilesConfig {
  mode: 'enforce' | 'warn';
  /** Kubernetes namespaces checked (empty: all) and never checked. */
  namespaces: string[];
  excludeNamespaces: string[];
  /** The custody namespace whose stored attestations the gate reads. */
  attestationsNamespace: string;
  /** Attestations considered per image digest. */
  maxAttestations: number;
}

const fields = configFields();
const { only, str } = fields;
// Annotated, so that calls narrow like a function that never returns.
const fail: (where: string, message: string) => never = fields.fail;
/** An optional list: absent is empty. */
const strings = (v: unknown, where: string): string[] => (v === undefined ? [] : fields.strings(v, where));

const posInt = fields.posInt;

function bool(v: unknown, where: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(where, 'must be true or false');
  return v;
}

function duration(v: unknown, where: string): number {
  try {
    return parseDuration(str(v, where));
  } catch {
    fail(where, `'${String(v)}' is not a duration such as 365d, 12h, 30m or 2w`);
  }
}

function parseBackend(v: unknown, where: string, at: (p: string) => string): SigningBackendConfig | 'signing' {
  if (v === undefined || v === 'signing') return 'signing';
  if (!isRecord(v)) fail(where, "must be 'signing' or a mapping (kind: file | pkcs11)");
  // A file backend names its kind and directory here: there is no default place for it.
  if (v['kind'] !== 'pkcs11') {
    if (v['kind'] !== 'file') fail(`${where}.kind`, "must be 'file' or 'pkcs11'");
    str(v['dir'], `${where}.dir`);
  }
  return fields.keyBackend(v, where, at, { dir: '', passphraseEnv: 'CUSTODY_KEY_PASSPHRASE', sessions: 2 });
}

function parseOnlineKey(v: unknown, where: string, at: (p: string) => string): TufOnlineKey {
  if (!isRecord(v)) fail(where, 'must be a mapping: { file: PATH } or { name: KEY }');
  if (v['file'] !== undefined) {
    only(v, where, ['file', 'passphraseEnv']);
    return { file: at(str(v['file'], `${where}.file`)), ...(v['passphraseEnv'] === undefined ? {} : { passphraseEnv: str(v['passphraseEnv'], `${where}.passphraseEnv`) }) };
  }
  only(v, where, ['name']);
  if (v['name'] === undefined) fail(where, 'needs file (a private key file) or name (a key in keyBackend)');
  return { name: str(v['name'], `${where}.name`) };
}

function parsePolicyFiles(v: Record<string, unknown>, where: string, at: (p: string) => string): PolicyFilesConfig {
  const policies = strings(v['policies'], `${where}.policies`).map(at);
  const policyKeys = strings(v['policyKeys'], `${where}.policyKeys`).map(at);
  const allowUnsignedPolicy = bool(v['allowUnsignedPolicy'], `${where}.allowUnsignedPolicy`);
  if (policies.length > 0 && policyKeys.length === 0 && !allowUnsignedPolicy) fail(where, 'policies need policyKeys (their owners), or allowUnsignedPolicy: true');
  const policyThreshold = v['policyThreshold'] === undefined ? 1 : posInt(v['policyThreshold'], `${where}.policyThreshold`);
  if (policyKeys.length > 0 && policyThreshold > policyKeys.length) fail(`${where}.policyThreshold`, `${policyThreshold} is more than the ${policyKeys.length} policy key(s)`);
  const trustedRoot = v['trustedRoot'] === undefined ? undefined : at(str(v['trustedRoot'], `${where}.trustedRoot`));
  return { policies, policyKeys, policyThreshold, allowUnsignedPolicy, ...(trustedRoot === undefined ? {} : { trustedRoot }) };
}

const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function parseGrant(v: unknown, where: string): TufRoleGrant {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['role', 'principals', 'namespaces']);
  const role = str(v['role'], `${where}.role`);
  if (!ROLE_NAME.test(role) || ['root', 'snapshot', 'timestamp'].includes(role)) fail(`${where}.role`, `'${role}' is not a targets role name`);
  const grant = { role, principals: strings(v['principals'], `${where}.principals`), namespaces: strings(v['namespaces'], `${where}.namespaces`) };
  if (grant.principals.length === 0 && grant.namespaces.length === 0) fail(where, 'needs principals or namespaces (who may add targets to the role)');
  return grant;
}

function parseExpiry(e: unknown): TufConfig['expiry'] {
  const expiry: TufConfig['expiry'] = {};
  if (e === undefined) return expiry;
  if (!isRecord(e)) fail('tuf.expiry', 'must be a mapping');
  only(e, 'tuf.expiry', ['snapshot', 'timestamp', 'delegated']);
  for (const role of ['snapshot', 'timestamp', 'delegated'] as const) if (e[role] !== undefined) expiry[role] = duration(e[role], `tuf.expiry.${role}`);
  return expiry;
}

function parseGrants(v: unknown): TufRoleGrant[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail('tuf.roles', 'must be a list');
  const roles = v.map((g, i) => parseGrant(g, `tuf.roles[${i}]`));
  const seen = new Set<string>();
  for (const g of roles) {
    if (seen.has(g.role)) fail('tuf.roles', `role '${g.role}' is listed twice`);
    seen.add(g.role);
  }
  return roles;
}

/** The optional `tuf:` and `gate:` sections of a config document. */
export function parseDistributionConfig(doc: Record<string, unknown>, at: (p: string) => string): { tuf?: TufConfig; gate?: GateServerConfig } {
  const tuf = parseTufConfig(doc['tuf'], at);
  const gate = parseGateConfig(doc['gate'], at);
  return { ...(tuf === undefined ? {} : { tuf }), ...(gate === undefined ? {} : { gate }) };
}

/** `tuf:`; undefined when the section is absent (no TUF routes). */
export function parseTufConfig(v: unknown, at: (p: string) => string): TufConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) fail('tuf', 'must be a mapping');
  only(v, 'tuf', ['dir', 'keyBackend', 'onlineKeys', 'expiry', 'refreshWithin', 'refreshEvery', 'admission', 'roles', 'keylessTrust']);
  if (!Array.isArray(v['onlineKeys']) || v['onlineKeys'].length === 0) fail('tuf.onlineKeys', 'must list the signers of snapshot and timestamp ({ file: PATH } or { name: KEY })');
  const expiry = parseExpiry(v['expiry']);
  const refreshWithin = v['refreshWithin'] === undefined ? 12 * 3600 : duration(v['refreshWithin'], 'tuf.refreshWithin');
  const refreshEveryMs = (v['refreshEvery'] === undefined ? 60 : duration(v['refreshEvery'], 'tuf.refreshEvery')) * 1000;
  const timestampPeriod = expiry.timestamp;
  if (timestampPeriod !== undefined && refreshWithin >= timestampPeriod) fail('tuf.refreshWithin', 'must be shorter than expiry.timestamp (or every check re-signs)');
  if (refreshEveryMs / 1000 >= refreshWithin) fail('tuf.refreshEvery', 'must be shorter than refreshWithin (or roles can expire between checks)');
  const admission = v['admission'];
  if (admission !== undefined && !isRecord(admission)) fail('tuf.admission', 'must be a mapping');
  if (admission !== undefined) only(admission, 'tuf.admission', ['policies', 'policyKeys', 'policyThreshold', 'allowUnsignedPolicy', 'trustedRoot']);
  const roles = parseGrants(v['roles']);
  return {
    dir: at(str(v['dir'], 'tuf.dir')),
    keyBackend: parseBackend(v['keyBackend'], 'tuf.keyBackend', at),
    onlineKeys: v['onlineKeys'].map((k, i) => parseOnlineKey(k, `tuf.onlineKeys[${i}]`, at)),
    expiry,
    refreshWithin,
    refreshEveryMs,
    admission: parsePolicyFiles(admission ?? {}, 'tuf.admission', at),
    roles,
    ...(v['keylessTrust'] === undefined ? {} : { keylessTrust: bool(v['keylessTrust'], 'tuf.keylessTrust') }),
  };
}

/** `gate:`; undefined when the section is absent (no gate routes). */
export function parseGateConfig(v: unknown, at: (p: string) => string): GateServerConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) fail('gate', 'must be a mapping');
  only(v, 'gate', ['mode', 'policies', 'policyKeys', 'policyThreshold', 'allowUnsignedPolicy', 'trustedRoot', 'namespaces', 'excludeNamespaces', 'attestationsNamespace', 'maxAttestations']);
  const files = parsePolicyFiles(v, 'gate', at);
  if (files.policies.length === 0) fail('gate.policies', 'the gate needs at least one policy');
  const mode = v['mode'] ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'warn') fail('gate.mode', "must be 'enforce' or 'warn'");
  const attestationsNamespace = v['attestationsNamespace'] === undefined ? 'default' : str(v['attestationsNamespace'], 'gate.attestationsNamespace');
  if (!isNamespace(attestationsNamespace)) fail('gate.attestationsNamespace', `'${attestationsNamespace}' is not a namespace name`);
  return {
    ...files,
    mode,
    namespaces: strings(v['namespaces'], 'gate.namespaces'),
    excludeNamespaces: strings(v['excludeNamespaces'], 'gate.excludeNamespaces'),
    attestationsNamespace,
    maxAttestations: v['maxAttestations'] === undefined ? 500 : posInt(v['maxAttestations'], 'gate.maxAttestations'),
  };
}
