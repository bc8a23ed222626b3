// The `ca:` section of the server config: the keyless certificate authority, its time-stamp
// authority, the server's own workload-identity issuer and the external OIDC issuers whose ID
// tokens it accepts (issuer, audiences, keys, how claims become the certificate's identity and
// Sigstore CI extensions). Strict: an unknown key is an error.
import { configFields, isRecord, type KeyBackendConfig } from '../config-fields.ts';
import { CI_EXTENSIONS, type CiExtension } from './x509.ts';

export type CaBackendConfig = KeyBackendConfig;

export interface CaIssuerConfig {
  issuer: string;
  audiences: string[];
  jwksUri: string;
  algorithms: string[];
  /** How the identity goes into the SAN: the verified email, or a URI made from a claim template. */
  san: { type: 'email' } | { type: 'uri'; template: string };
  /** Sigstore CI extension → claim template such as `{server_url}/{repository}`. */
  extensions: Partial<Record<CiExtension, string>>;
}

export interface CaConfig {
  enabled: boolean;
  /** Certificates (root.pem, intermediate.pem, tsa.pem) and the identity issuer key. */
  dir: string;
  backend: CaBackendConfig;
  intermediateKey: string;
  tsaKey: string;
  /** Leaf lifetime; at most 600 s. */
  certValiditySeconds: number;
  /** The server as an OIDC issuer for workloads (`custody identity token`). */
  identity: { issuer: string | undefined; audience: string; maxTtlSeconds: number };
  issuers: CaIssuerConfig[];
}

export const CA_MAX_VALIDITY_SECONDS = 600;

export function defaultCaConfig(dataDir: string): CaConfig {
  return {
    enabled: false,
    dir: `${dataDir}/ca`,
    backend: { kind: 'file', dir: `${dataDir}/ca/keys`, passphraseEnv: 'CUSTODY_CA_KEY_PASSPHRASE' },
    intermediateKey: 'ca-intermediate',
    tsaKey: 'ca-tsa',
    certValiditySeconds: CA_MAX_VALIDITY_SECONDS,
    identity: { issuer: undefined, audience: 'sigstore', maxTtlSeconds: 3600 },
    issuers: [],
  };
}

/** Fulcio's GitHub Actions mapping (fulcio config/identity: ci-provider github-workflow). */
export const GITHUB_ACTIONS_PRESET: Pick<CaIssuerConfig, 'san' | 'extensions'> = {
  san: { type: 'uri', template: '{server_url}/{job_workflow_ref}' },
  extensions: {
    buildSignerUri: '{server_url}/{job_workflow_ref}',
    buildSignerDigest: '{job_workflow_sha}',
    runnerEnvironment: '{runner_environment}',
    sourceRepositoryUri: '{server_url}/{repository}',
    sourceRepositoryDigest: '{sha}',
    sourceRepositoryRef: '{ref}',
    sourceRepositoryIdentifier: '{repository_id}',
    sourceRepositoryOwnerUri: '{server_url}/{repository_owner}',
    sourceRepositoryOwnerIdentifier: '{repository_owner_id}',
    buildConfigUri: '{server_url}/{workflow_ref}',
    buildConfigDigest: '{workflow_sha}',
    buildTrigger: '{event_name}',
    runInvocationUri: '{server_url}/{repository}/actions/runs/{run_id}/attempts/{run_attempt}',
    sourceRepositoryVisibilityAtSigning: '{repository_visibility}',
  },
};

const fields = configFields('ca');
const { only, str, nonEmptyStrings: strings, posInt } = fields;
// Annotated, so that calls narrow like a function that never returns.
const fail: (where: string, message: string) => never = fields.fail;

function url(v: unknown, where: string, loopbackHttp: boolean): string {
  const text = str(v, where);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    fail(where, 'must be a URL');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(loopbackHttp && u.protocol === 'http:' && loopback)) fail(where, 'must be https (http only on loopback)');
  return text;
}

function parseBackend(v: unknown, at: (p: string) => string, base: CaBackendConfig): CaBackendConfig {
  if (v === undefined) return base;
  if (!isRecord(v)) fail('backend', 'must be a mapping');
  return fields.keyBackend(v, 'backend', at, { dir: base.kind === 'file' ? base.dir : at('ca/keys'), passphraseEnv: 'CUSTODY_CA_KEY_PASSPHRASE', sessions: 2 });
}

const TEMPLATE = /^(?:[^{}]|\{[A-Za-z0-9_.-]+\})*$/;

function template(v: unknown, where: string): string {
  const t = str(v, where);
  if (!TEMPLATE.test(t)) fail(where, 'must be text with {claim} placeholders');
  return t;
}

function parseIssuer(v: unknown, where: string): CaIssuerConfig {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['issuer', 'audiences', 'jwksUri', 'algorithms', 'preset', 'san', 'extensions']);
  const algorithms = v['algorithms'] === undefined ? ['RS256', 'ES256', 'ES384', 'PS256', 'EdDSA'] : strings(v['algorithms'], `${where}.algorithms`);
  if (algorithms.some((a) => a.toLowerCase() === 'none')) fail(`${where}.algorithms`, "'none' is never accepted");
  let preset: Pick<CaIssuerConfig, 'san' | 'extensions'> = { san: { type: 'email' }, extensions: {} };
  if (v['preset'] !== undefined) {
    if (v['preset'] !== 'github-actions') fail(`${where}.preset`, "must be 'github-actions'");
    preset = GITHUB_ACTIONS_PRESET;
  }
  let san = preset.san;
  if (v['san'] !== undefined) {
    const s = str(v['san'], `${where}.san`);
    // `email`, or `uri:<template>` e.g. `uri:{sub}` or `uri:https://kubernetes.io/namespaces/{kubernetes.io.namespace}`.
    if (s === 'email') san = { type: 'email' };
    else if (s.startsWith('uri:')) san = { type: 'uri', template: template(s.slice(4), `${where}.san`) };
    else fail(`${where}.san`, "must be 'email' or 'uri:<template>'");
  }
  const extensions: Partial<Record<CiExtension, string>> = { ...preset.extensions };
  if (v['extensions'] !== undefined) {
    if (!isRecord(v['extensions'])) fail(`${where}.extensions`, 'must be a mapping');
    for (const [k, t] of Object.entries(v['extensions'])) {
      if (!(CI_EXTENSIONS as string[]).includes(k)) fail(`${where}.extensions`, `unknown extension '${k}' (known: ${CI_EXTENSIONS.join(', ')})`);
      extensions[k as CiExtension] = template(t, `${where}.extensions.${k}`);
    }
  }
  return { issuer: str(v['issuer'], `${where}.issuer`), audiences: strings(v['audiences'], `${where}.audiences`), jwksUri: url(v['jwksUri'], `${where}.jwksUri`, true), algorithms, san, extensions };
}

/** Parses `ca:`; relative paths resolve with `at`. */
export function parseCaConfig(v: unknown, at: (p: string) => string, dataDir: string): CaConfig {
  const config = defaultCaConfig(dataDir);
  if (v === undefined) return config;
  if (!isRecord(v)) fail('', 'must be a mapping');
  only(v, '', ['enabled', 'dir', 'backend', 'intermediateKey', 'tsaKey', 'certValiditySeconds', 'identity', 'issuers']);
  if (v['enabled'] !== undefined && typeof v['enabled'] !== 'boolean') fail('enabled', 'must be true or false');
  config.enabled = v['enabled'] === true;
  if (v['dir'] !== undefined) {
    config.dir = at(str(v['dir'], 'dir'));
    config.backend = { kind: 'file', dir: `${config.dir}/keys`, passphraseEnv: 'CUSTODY_CA_KEY_PASSPHRASE' };
  }
  config.backend = parseBackend(v['backend'], at, config.backend);
  if (v['intermediateKey'] !== undefined) config.intermediateKey = str(v['intermediateKey'], 'intermediateKey');
  if (v['tsaKey'] !== undefined) config.tsaKey = str(v['tsaKey'], 'tsaKey');
  if (v['certValiditySeconds'] !== undefined) {
    config.certValiditySeconds = posInt(v['certValiditySeconds'], 'certValiditySeconds');
    if (config.certValiditySeconds > CA_MAX_VALIDITY_SECONDS) fail('certValiditySeconds', `must be at most ${CA_MAX_VALIDITY_SECONDS} (10 minutes)`);
  }
  const id = v['identity'];
  if (id !== undefined) {
    if (!isRecord(id)) fail('identity', 'must be a mapping');
    only(id, 'identity', ['issuer', 'audience', 'maxTtlSeconds']);
    if (id['issuer'] !== undefined) config.identity.issuer = url(id['issuer'], 'identity.issuer', true);
    if (id['audience'] !== undefined) config.identity.audience = str(id['audience'], 'identity.audience');
    if (id['maxTtlSeconds'] !== undefined) config.identity.maxTtlSeconds = posInt(id['maxTtlSeconds'], 'identity.maxTtlSeconds');
  }
  if (v['issuers'] !== undefined) {
    if (!Array.isArray(v['issuers'])) fail('issuers', 'must be a list');
    config.issuers = v['issuers'].map((o, i) => parseIssuer(o, `issuers[${i}]`));
  }
  return config;
}
