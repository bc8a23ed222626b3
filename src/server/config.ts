// `custody serve` configuration: YAML file, defaults for the embedded setup, strict checking
// (an unknown key is an error, not a silent no-op), and the commented file `custody init` writes.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../core/index.ts';
import { configFields, isRecord } from './config-fields.ts';
import type { Role } from '../store/index.ts';
import { ROLES, isNamespace } from './authz.ts';
import { defaultTlogConfig, parseTlogConfig, type TlogConfig } from './log-config.ts';
import { defaultMonitorConfig, parseMonitorConfig, type MonitorConfig } from './monitor-config.ts';
import { tlsSection, type TlsConfig } from './mtls.ts';
import { defaultSigningConfig, parseSigningConfig, type SigningConfig } from './sign-config.ts';
import { defaultCaConfig, parseCaConfig, type CaConfig } from './ca/ca-config.ts';
import { parseDistributionConfig, type GateServerConfig, type TufConfig } from './tuf-config.ts';

export interface OidcGrant {
  /** Claims that must all equal these values (string comparison). */
  claims: Record<string, string>;
  role: Role;
  namespaces: string[];
}

export interface OidcIssuerConfig {
  issuer: string;
  audiences: string[];
  jwksUri: string;
  /** Signature algorithms accepted; `none` is never accepted. */
  algorithms: string[];
  grants: OidcGrant[];
}

export interface ServerConfig {
  /** host:port */
  listen: string;
  dataDir: string;
  store: { driver: 'sqlite' } | { driver: 'postgres'; url: string; maxConnections: number };
  /** Paths of public keys (PEM or securesystemslib JSON) whose signatures count as verified. */
  trustedKeys: string[];
  limits: {
    bodyBytes: number;
    batchItems: number;
    requestsPerMinute: number;
    requestTimeoutMs: number;
    graphMaxAttestations: number;
  };
  attestations: { rejectUnverified: boolean };
  auth: { oidc: OidcIssuerConfig[] };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** The transparency log (log-config.ts). */
  tlog: TlogConfig;
  /** The transparency log monitor (monitor-config.ts). */
  monitor: MonitorConfig;
  /** The signing service (sign-config.ts). */
  signing: SigningConfig;
  /** The keyless CA, TSA and workload-identity issuer (ca/ca-config.ts). */
  ca: CaConfig;
  /** The TUF repository served at /tuf (tuf-config.ts); absent: no TUF routes. */
  tuf?: TufConfig;
  /** The deploy gate at /v1/gate (tuf-config.ts); absent: no gate routes. */
  gate?: GateServerConfig;
  /** HTTPS and client certificates (mtls.ts); absent: plain HTTP. */
  tls?: TlsConfig;
}

export const DEFAULT_PORT = 8420;

export function defaultConfig(dataDir: string): ServerConfig {
  return {
    listen: `127.0.0.1:${DEFAULT_PORT}`,
    dataDir,
    store: { driver: 'sqlite' },
    trustedKeys: [],
    limits: { bodyBytes: 8 * 1024 * 1024, batchItems: 1000, requestsPerMinute: 6000, requestTimeoutMs: 30_000, graphMaxAttestations: 5000 },
    attestations: { rejectUnverified: false },
    auth: { oidc: [] },
    log: { level: 'info' },
    tlog: defaultTlogConfig(),
    monitor: defaultMonitorConfig(),
    signing: defaultSigningConfig(dataDir),
    ca: defaultCaConfig(dataDir),
  };
}

const fields = configFields();
const { only, str, strings, posInt: positiveInt } = fields;
// Annotated, so that calls narrow like a function that never returns.
const fail: (where: string, message: string) => never = fields.fail;

function namespaces(v: unknown, where: string): string[] {
  const list = strings(v, where);
  for (const n of list) if (n !== '*' && !isNamespace(n)) fail(where, `'${n}' is not a namespace name`);
  return list;
}

function parseGrant(v: unknown, where: string): OidcGrant {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['claims', 'role', 'namespaces']);
  if (!isRecord(v['claims']) || Object.keys(v['claims']).length === 0) fail(`${where}.claims`, 'must map at least one claim to a value');
  const claims: Record<string, string> = {};
  for (const [k, value] of Object.entries(v['claims'])) claims[k] = str(value, `${where}.claims.${k}`);
  const role = str(v['role'], `${where}.role`);
  if (!(ROLES as readonly string[]).includes(role)) fail(`${where}.role`, `must be one of ${ROLES.join(', ')}`);
  return { claims, role: role as Role, namespaces: namespaces(v['namespaces'], `${where}.namespaces`) };
}

function parseIssuer(v: unknown, where: string): OidcIssuerConfig {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['issuer', 'audiences', 'jwksUri', 'algorithms', 'grants']);
  const jwksUri = str(v['jwksUri'], `${where}.jwksUri`);
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    fail(`${where}.jwksUri`, 'must be a URL');
  }
  // Keys over plain HTTP only from this machine (tests, sidecars); anything else must be HTTPS.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) {
    fail(`${where}.jwksUri`, 'must be https (http only on loopback)');
  }
  const algorithms = v['algorithms'] === undefined ? ['RS256', 'ES256', 'ES384', 'PS256', 'EdDSA'] : strings(v['algorithms'], `${where}.algorithms`);
  if (algorithms.some((a) => a.toLowerCase() === 'none')) fail(`${where}.algorithms`, "'none' is never accepted");
  if (!Array.isArray(v['grants'])) fail(`${where}.grants`, 'must be a list');
  return {
    issuer: str(v['issuer'], `${where}.issuer`),
    audiences: strings(v['audiences'], `${where}.audiences`),
    jwksUri,
    algorithms,
    grants: v['grants'].map((g, i) => parseGrant(g, `${where}.grants[${i}]`)),
  };
}

function parseStore(v: unknown, base: ServerConfig['store']): ServerConfig['store'] {
  if (v === undefined) return base;
  if (!isRecord(v)) fail('store', 'must be a mapping');
  only(v, 'store', ['driver', 'url', 'maxConnections']);
  const driver = v['driver'] ?? 'sqlite';
  if (driver === 'sqlite') return { driver: 'sqlite' };
  if (driver !== 'postgres') fail('store.driver', "must be 'sqlite' or 'postgres'");
  const url = v['url'] ?? process.env['CUSTODY_DATABASE_URL'];
  return {
    driver: 'postgres',
    url: str(url, 'store.url (or CUSTODY_DATABASE_URL)'),
    maxConnections: v['maxConnections'] === undefined ? 10 : positiveInt(v['maxConnections'], 'store.maxConnections'),
  };
}

function parseLimits(v: unknown, base: ServerConfig['limits']): ServerConfig['limits'] {
  if (v === undefined) return base;
  if (!isRecord(v)) fail('limits', 'must be a mapping');
  only(v, 'limits', Object.keys(base));
  const out = { ...base };
  for (const k of Object.keys(base) as (keyof ServerConfig['limits'])[]) {
    if (v[k] !== undefined) out[k] = positiveInt(v[k], `limits.${k}`);
  }
  return out;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Checks a parsed config document; relative paths resolve against `baseDir`. */
export function parseConfig(doc: unknown, baseDir: string): ServerConfig {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const config = defaultConfig(at('server'));
  if (doc === null || doc === undefined) return config;
  if (!isRecord(doc)) fail('top level', 'must be a mapping');
  only(doc, 'top level', ['listen', 'dataDir', 'store', 'trustedKeys', 'limits', 'attestations', 'auth', 'log', 'tlog', 'monitor', 'signing', 'tuf', 'gate', 'tls', 'ca']);
  config.tlog = parseTlogConfig(doc['tlog'], at);
  config.monitor = parseMonitorConfig(doc['monitor']);
  if (doc['listen'] !== undefined) config.listen = parseListen(str(doc['listen'], 'listen'));
  if (doc['dataDir'] !== undefined) config.dataDir = at(str(doc['dataDir'], 'dataDir'));
  config.signing = parseSigningConfig(doc['signing'], at, config.dataDir);
  config.ca = parseCaConfig(doc['ca'], at, config.dataDir);
  Object.assign(config, parseDistributionConfig(doc, at));
  config.store = parseStore(doc['store'], config.store);
  if (doc['trustedKeys'] !== undefined) config.trustedKeys = strings(doc['trustedKeys'], 'trustedKeys').map(at);
  config.limits = parseLimits(doc['limits'], config.limits);
  Object.assign(config, tlsSection(doc['tls'], at));
  const att = doc['attestations'];
  if (att !== undefined) {
    if (!isRecord(att)) fail('attestations', 'must be a mapping');
    only(att, 'attestations', ['rejectUnverified']);
    if (att['rejectUnverified'] !== undefined && typeof att['rejectUnverified'] !== 'boolean') fail('attestations.rejectUnverified', 'must be true or false');
    config.attestations.rejectUnverified = att['rejectUnverified'] === true;
  }
  const auth = doc['auth'];
  if (auth !== undefined) {
    if (!isRecord(auth)) fail('auth', 'must be a mapping');
    only(auth, 'auth', ['oidc']);
    if (auth['oidc'] !== undefined) {
      if (!Array.isArray(auth['oidc'])) fail('auth.oidc', 'must be a list');
      config.auth.oidc = auth['oidc'].map((o, i) => parseIssuer(o, `auth.oidc[${i}]`));
    }
  }
  const log = doc['log'];
  if (log !== undefined) {
    if (!isRecord(log)) fail('log', 'must be a mapping');
    only(log, 'log', ['level']);
    const level = log['level'];
    if (level !== undefined) {
      if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) fail('log.level', `must be one of ${LEVELS.join(', ')}`);
      config.log.level = level as ServerConfig['log']['level'];
    }
  }
  return config;
}

/** Validates HOST:PORT (IPv6 hosts in brackets). */
export function parseListen(text: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (m === null || Number(m[2]) > 65535) fail('listen', `'${text}' is not HOST:PORT`);
  return text;
}

export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

export function loadConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read server config ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) as unknown;
  } catch (e) {
    throw new InputError('INPUT_INVALID', `server config ${path} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return parseConfig(doc, dirname(resolve(path)));
}

/** The commented configuration `custody init` writes for the embedded default. */
export function defaultConfigText(): string {
  return `# custody serve configuration (custody serve --config THIS_FILE).
# Relative paths are resolved against the directory of this file.

# Where the server listens. Keep it on loopback unless a TLS proxy is in front.
listen: 127.0.0.1:${DEFAULT_PORT}

# Data directory: the SQLite store (custody.db) lives here.
dataDir: server

# Store: sqlite (embedded, one process) or postgres (several stateless servers share it).
store:
  driver: sqlite
  # driver: postgres
  # url: postgres://custody@db.example.internal:5432/custody   # or set CUSTODY_DATABASE_URL
  # maxConnections: 10

# Public keys (PEM or securesystemslib JSON) whose signatures mark an attestation "verified".
# Attestations signed by other keys are stored too, marked "unverified".
trustedKeys: []
#  - keys/builder.pub

attestations:
  # true: refuse attestations no trusted key signed (422) instead of storing them as unverified.
  rejectUnverified: false

limits:
  bodyBytes: ${8 * 1024 * 1024}        # largest request body
  batchItems: 1000            # most attestations in one NDJSON batch
  requestsPerMinute: 6000     # per token (or per address without one)
  requestTimeoutMs: 30000
  graphMaxAttestations: 5000  # a provenance graph stops (truncated) after this many

# API tokens are managed with 'custody token create|list|revoke'; the first admin token is made
# offline: custody token create --data DIR --role admin
auth:
  # OIDC bearer JWTs (for example CI workload identities). A token is accepted when its issuer is
  # listed here, its audience matches, its signature verifies against the issuer's JWKS, and one
  # grant's claims all match; the grant gives the role and namespaces.
  oidc: []
  #  - issuer: https://token.actions.githubusercontent.com
  #    audiences: [custody]
  #    jwksUri: https://token.actions.githubusercontent.com/.well-known/jwks
  #    algorithms: [RS256]
  #    grants:
  #      - claims: { repository: example/app, ref: refs/heads/main }
  #        role: attester
  #        namespaces: [app]

log:
  level: info   # JSON lines on stdout (pino); tokens and keys are never logged

# HTTPS, and client certificates (mTLS) as a way to authenticate next to tokens (docs/server.md).
# tls:
#   cert: tls/server.crt
#   key: tls/server.key
#   clientCa: tls/clients-ca.crt   # CA signing client certificates
#   clientCerts: request           # none | request | require (refused at the handshake, audited)
#   grants:                        # verified certificate -> role; match commonName, san, fingerprint
#     - san: URI:spiffe://example.org/ci/builder
#       role: attester
#       namespaces: [app]

# Transparency log: tiles and checkpoint under <dataDir>/log (served at /log/...), note key in
# <dataDir>/log-key (made at first start; 'custody log key show --data DIR' prints its verifier key).
tlog:
  origin: custody.local/log   # checkpoint origin and key name; keep it stable
  batchIntervalMs: 0          # longest an entry waits for a checkpoint (0: as soon as possible)
  batchMaxEntries: 4096
  # baseUrl: https://custody.local/log   # in the Sigstore trusted root; must contain the origin
  # witnesses:
  #   - { url: http://witness.example:8421, key: "witness1+0a1b2c3d+BA..." }
  # witnessThreshold: 1

# Transparency log monitor (docs/transparency-log.md): checks every checkpoint of this server's log
# (and of the logs listed) against the last one it verified: signatures, witness cosignatures,
# consistency, re-derived tiles. Alarms: GET /v1/log/monitor, the dashboard, the audit log
# (log.alarm), /metrics, and a POST to the webhook (default: signing.webhook).
# monitor:
#   enabled: true
#   intervalMs: 60000
#   self: true                      # monitor this server's own log
#   # witnesses: ["witness1+0a1b2c3d+BA..."]   # cosignatures required on the own log
#   # witnessThreshold: 1
#   # webhook: https://alerts.example/custody
#   logs: []
#   #  - name: other-log
#   #    url: https://log.example/tiles        # tlog-tiles prefix (<url>/checkpoint)
#   #    origin: log.example/tiles
#   #    key: "log.example/tiles+89ab01cd+AQ..."
#   #    witnesses: ["witness1+0a1b2c3d+BA..."]
#   #    witnessThreshold: 1

# Keyless signing (docs/keyless.md): a Fulcio-compatible CA, an RFC 3161 time-stamp authority and
# a workload-identity OIDC issuer. Create it first: custody ca init --config THIS_FILE --root-key-out FILE
# ca:
#   enabled: true
#   backend: { kind: file }          # CUSTODY_CA_KEY_PASSPHRASE; or { kind: pkcs11, tokenLabel: … }
#   certValiditySeconds: 600
#   identity: { issuer: https://custody.example, audience: sigstore }
#   issuers: []                      # external OIDC providers (issuer, audiences, jwksUri, san, extensions)
# The signing service (docs/signing.md) verifies keyless attestations of its policies' identity
# functionaries against this CA's trusted root; for another CA's, add to its signing: section
#   trustedRoot: trust/custody_root.json   # a Sigstore trusted_root.json file

`;
}
