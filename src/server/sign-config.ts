// The `signing:` section of the server config: which key backend, which keys with which signing
// policy, and who may use which key for which artifact names. Strict: unknown keys are errors.
import { configFields, isRecord, type KeyBackendConfig } from './config-fields.ts';

export type SignMode = 'verify-then-sign' | 'sign-then-verify';
export const SIGN_MODES: readonly SignMode[] = ['verify-then-sign', 'sign-then-verify'];

export type SigningBackendConfig = KeyBackendConfig;

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
  /**
   * Sigstore trusted_root.json verifying keyless attestations for identity functionaries
   * (`keyless: {issuer, subject}`) of the signing policies. Absent: the server's own CA trusted
   * root (GET /v1/ca/trusted-root) when `ca.enabled`; otherwise keyless evidence is not verified.
   */
  trustedRoot?: string;
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

const fields = configFields('signing');
const { only, str, nonEmptyStrings: strings, posInt, keyBackend } = fields;
// Annotated, so that calls narrow like a function that never returns.
const fail: (where: string, message: string) => never = fields.fail;

function parseBackend(v: unknown, at: (p: string) => string, base: SigningBackendConfig): SigningBackendConfig {
  if (v === undefined) return base;
  if (!isRecord(v)) fail('backend', 'must be a mapping');
  return keyBackend(v, 'backend', at, { dir: base.kind === 'file' ? base.dir : 'keys', passphraseEnv: 'CUSTODY_KEY_PASSPHRASE', sessions: 4 });
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
  only(v, '', ['enabled', 'backend', 'keys', 'grants', 'webhook', 'jobIntervalMs', 'verifyTimeoutMs', 'maxAttestations', 'trustedRoot']);
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
  if (v['trustedRoot'] !== undefined) config.trustedRoot = at(str(v['trustedRoot'], 'trustedRoot'));
  return config;
}
