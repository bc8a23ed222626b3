// The `signing:` section of the server config: which key backend, which keys with which signing
// policy, and who may use which key for which artifact names. Strict: unknown keys are errors.
import { InputError } from '../core/index.ts';

export type SignMode = 'verify-then-sign' | 'sign-then-verify';
export const SIGN_MODES: readonly SignMode[] = ['verify-then-sign', 'sign-then-verify'];

export type SigningBackendConfig =
  | { kind: 'file'; dir: string; passphraseEnv: string }
  | { kind: 'pkcs11'; library: string; tokenLabel: string; pinEnv: string; sessions: number };

export interface SigningKeyConfig {
  /** Key name in the backend (the request's keyRef). */
  name: string;
  /** The policy checked BEFORE every signature: a signed policy envelope, or a document. */
  policy: string;
  /** Owner public keys of a signed policy; empty → the policy file must be a plain document and `allowUnsignedPolicy` true. */
  policyKeys: string[];
  policyThreshold: number;
  allowUnsignedPolicy: boolean;
  /** sign-then-verify: the policy the queued verification job must meet (e.g. a passing rebuild VSA). */
  verifyPolicy?: string;
  modes: SignMode[];
}

export interface SigningGrant {
  /** Actor patterns (fnmatch): `token:<id>`, `oidc:<issuer>#<subject>`. */
  principals: string[];
  keys: string[];
  /** Artifact-name patterns (fnmatch) the principal may have signed with these keys. */
  artifacts: string[];
}

export interface SigningConfig {
  enabled: boolean;
  backend: SigningBackendConfig;
  keys: SigningKeyConfig[];
  grants: SigningGrant[];
  /** POSTed a JSON event when a signature is revoked. */
  webhook?: string;
  /** How often queued verification jobs run. */
  jobIntervalMs: number;
  /** A job whose policy is still unmet after this long fails (the signature is revoked). */
  verifyTimeoutMs: number;
  /** Attestations considered per artifact. */
  maxAttestations: number;
}

export function defaultSigningConfig(dataDir: string): SigningConfig {
  return {
    enabled: false,
    backend: { kind: 'file', dir: `${dataDir}/keys`, passphraseEnv: 'CUSTODY_KEY_PASSPHRASE' },
    keys: [],
    grants: [],
    jobIntervalMs: 5_000,
    verifyTimeoutMs: 24 * 3600_000,
    maxAttestations: 500,
  };
}

function fail(where: string, message: string): never {
  throw new InputError('INPUT_INVALID', `server config: signing.${where}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(o: Record<string, unknown>, where: string, keys: string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(where, `unknown key '${k}' (known: ${keys.join(', ')})`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(where, 'must be a non-empty string');
  return v;
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(where, 'must be a non-empty list');
  return v.map((s, i) => str(s, `${where}[${i}]`));
}

function posInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(where, 'must be a positive integer');
  return v;
}

function parseBackend(v: unknown, at: (p: string) => string, base: SigningBackendConfig): SigningBackendConfig {
  if (v === undefined) return base;
  if (!isRecord(v)) fail('backend', 'must be a mapping');
  if (v['kind'] === 'pkcs11') {
    only(v, 'backend', ['kind', 'library', 'tokenLabel', 'pinEnv', 'sessions']);
    return {
      kind: 'pkcs11',
      library: str(v['library'] ?? '/usr/lib/softhsm/libsofthsm2.so', 'backend.library'),
      tokenLabel: str(v['tokenLabel'], 'backend.tokenLabel'),
      pinEnv: str(v['pinEnv'] ?? 'CUSTODY_PKCS11_PIN', 'backend.pinEnv'),
      sessions: v['sessions'] === undefined ? 4 : posInt(v['sessions'], 'backend.sessions'),
    };
  }
  if (v['kind'] !== undefined && v['kind'] !== 'file') fail('backend.kind', "must be 'file' or 'pkcs11'");
  only(v, 'backend', ['kind', 'dir', 'passphraseEnv']);
  return {
    kind: 'file',
    dir: v['dir'] === undefined ? (base.kind === 'file' ? base.dir : 'keys') : at(str(v['dir'], 'backend.dir')),
    passphraseEnv: str(v['passphraseEnv'] ?? 'CUSTODY_KEY_PASSPHRASE', 'backend.passphraseEnv'),
  };
}

function parseKey(v: unknown, where: string, at: (p: string) => string): SigningKeyConfig {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['name', 'policy', 'policyKeys', 'policyThreshold', 'allowUnsignedPolicy', 'verifyPolicy', 'modes']);
  const policyKeys = v['policyKeys'] === undefined ? [] : strings(v['policyKeys'], `${where}.policyKeys`).map(at);
  const allowUnsignedPolicy = v['allowUnsignedPolicy'] === true;
  if (policyKeys.length === 0 && !allowUnsignedPolicy) fail(where, 'a signing policy needs policyKeys (its owners), or allowUnsignedPolicy: true');
  const modes = v['modes'] === undefined ? ['verify-then-sign'] : strings(v['modes'], `${where}.modes`);
  for (const m of modes) if (!(SIGN_MODES as readonly string[]).includes(m)) fail(`${where}.modes`, `unknown mode '${m}'`);
  if (modes.includes('sign-then-verify') && v['verifyPolicy'] === undefined) fail(where, 'sign-then-verify needs a verifyPolicy');
  return {
    name: str(v['name'], `${where}.name`),
    policy: at(str(v['policy'], `${where}.policy`)),
    policyKeys,
    policyThreshold: v['policyThreshold'] === undefined ? 1 : posInt(v['policyThreshold'], `${where}.policyThreshold`),
    allowUnsignedPolicy,
    ...(v['verifyPolicy'] === undefined ? {} : { verifyPolicy: at(str(v['verifyPolicy'], `${where}.verifyPolicy`)) }),
    modes: modes as SignMode[],
  };
}

function parseGrant(v: unknown, where: string): SigningGrant {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['principals', 'keys', 'artifacts']);
  return { principals: strings(v['principals'], `${where}.principals`), keys: strings(v['keys'], `${where}.keys`), artifacts: strings(v['artifacts'], `${where}.artifacts`) };
}

export function parseSigningConfig(v: unknown, at: (p: string) => string, dataDir: string): SigningConfig {
  const config = defaultSigningConfig(dataDir);
  if (v === undefined) return config;
  if (!isRecord(v)) fail('', 'must be a mapping');
  only(v, '', ['enabled', 'backend', 'keys', 'grants', 'webhook', 'jobIntervalMs', 'verifyTimeoutMs', 'maxAttestations']);
  config.enabled = v['enabled'] !== false;
  config.backend = parseBackend(v['backend'], at, config.backend);
  if (v['keys'] !== undefined) {
    if (!Array.isArray(v['keys'])) fail('keys', 'must be a list');
    config.keys = v['keys'].map((k, i) => parseKey(k, `keys[${i}]`, at));
  }
  if (v['grants'] !== undefined) {
    if (!Array.isArray(v['grants'])) fail('grants', 'must be a list');
    config.grants = v['grants'].map((g, i) => parseGrant(g, `grants[${i}]`));
  }
  if (v['webhook'] !== undefined) {
    const url = str(v['webhook'], 'webhook');
    if (!/^https?:\/\//.test(url)) fail('webhook', 'must be an http(s) URL');
    config.webhook = url;
  }
  if (v['jobIntervalMs'] !== undefined) config.jobIntervalMs = posInt(v['jobIntervalMs'], 'jobIntervalMs');
  if (v['verifyTimeoutMs'] !== undefined) config.verifyTimeoutMs = posInt(v['verifyTimeoutMs'], 'verifyTimeoutMs');
  if (v['maxAttestations'] !== undefined) config.maxAttestations = posInt(v['maxAttestations'], 'maxAttestations');
  return config;
}
