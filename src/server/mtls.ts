// Optional TLS for `custody serve`, with client certificates (mTLS). The `tls:` config section
// names the server's certificate and key, a CA bundle for client certificates, whether a client
// certificate is requested or required, and grants mapping a verified certificate (subject CN,
// subjectAltName entry or sha256 fingerprint) to a role and namespaces, as OIDC grants map claims.
//
// `clientCerts: require` drops a connection without a certificate the client CA signed right after
// the handshake, before any HTTP byte is read (what node's rejectUnauthorized does, but here the
// refusal can be audited with the client's address and the verification error), and the
// authenticator refuses such requests again should a connection get through. `request` asks for
// a certificate but lets the connection through: a request then authenticates with its verified
// certificate or a bearer token, and a presented certificate the CA did not sign is refused (401).
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { InputError } from '../core/index.ts';
import type { Role } from '../store/index.ts';
import { ROLES, isNamespace, type Principal } from './authz.ts';
import { configFields, isRecord } from './config-fields.ts';
import { ApiError } from './errors.ts';

export type ClientCertMode = 'none' | 'request' | 'require';

export interface CertGrant {
  /** Every given field must match: the subject's CN, one subjectAltName entry, the sha256 fingerprint. */
  match: { commonName?: string; san?: string; fingerprint?: string };
  role: Role;
  namespaces: string[];
}

export interface TlsConfig {
  /** PEM certificate chain of the server. */
  cert: string;
  /** PEM private key of the server. */
  key: string;
  /** PEM CA bundle that signs client certificates; required unless clientCerts is 'none'. */
  clientCa: string | undefined;
  clientCerts: ClientCertMode;
  grants: CertGrant[];
}

const fields = configFields();
const { only, str } = fields;
// Annotated, so that calls narrow like a function that never returns.
const fail: (where: string, message: string) => never = fields.fail;

const SAN_PREFIXES = ['DNS:', 'URI:', 'email:', 'IP Address:'];

function parseCertGrant(v: unknown, where: string): CertGrant {
  if (!isRecord(v)) fail(where, 'must be a mapping');
  only(v, where, ['commonName', 'san', 'fingerprint', 'role', 'namespaces']);
  const match: CertGrant['match'] = {};
  if (v['commonName'] !== undefined) match.commonName = str(v['commonName'], `${where}.commonName`);
  if (v['san'] !== undefined) {
    match.san = str(v['san'], `${where}.san`);
    if (!SAN_PREFIXES.some((p) => match.san!.startsWith(p))) fail(`${where}.san`, `must start with one of ${SAN_PREFIXES.join(' ')} (e.g. URI:spiffe://example.org/ci)`);
  }
  if (v['fingerprint'] !== undefined) {
    const fp = str(v['fingerprint'], `${where}.fingerprint`).replaceAll(':', '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(fp)) fail(`${where}.fingerprint`, 'must be a sha256 fingerprint (64 hex digits, colons allowed)');
    match.fingerprint = fp;
  }
  if (Object.keys(match).length === 0) fail(where, 'needs at least one of commonName, san, fingerprint');
  const role = str(v['role'], `${where}.role`);
  if (!(ROLES as readonly string[]).includes(role)) fail(`${where}.role`, `must be one of ${ROLES.join(', ')}`);
  if (!Array.isArray(v['namespaces']) || v['namespaces'].length === 0) fail(`${where}.namespaces`, 'must be a non-empty list');
  const namespaces = v['namespaces'].map((n, i) => str(n, `${where}.namespaces[${i}]`));
  for (const n of namespaces) if (n !== '*' && !isNamespace(n)) fail(`${where}.namespaces`, `'${n}' is not a namespace name`);
  return { match, role: role as Role, namespaces };
}

/** The `tls:` section; relative paths resolve with `at`. Undefined when the section is absent. */
export function parseTlsConfig(v: unknown, at: (p: string) => string): TlsConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) fail('tls', 'must be a mapping');
  only(v, 'tls', ['cert', 'key', 'clientCa', 'clientCerts', 'grants']);
  const mode = v['clientCerts'] ?? (v['clientCa'] === undefined ? 'none' : 'request');
  if (mode !== 'none' && mode !== 'request' && mode !== 'require') fail('tls.clientCerts', "must be 'none', 'request' or 'require'");
  const clientCa = v['clientCa'] === undefined ? undefined : at(str(v['clientCa'], 'tls.clientCa'));
  if (mode !== 'none' && clientCa === undefined) fail('tls.clientCa', `is needed when clientCerts is '${mode}'`);
  if (v['grants'] !== undefined && !Array.isArray(v['grants'])) fail('tls.grants', 'must be a list');
  const grants = ((v['grants'] as unknown[] | undefined) ?? []).map((g, i) => parseCertGrant(g, `tls.grants[${i}]`));
  if (grants.length > 0 && mode === 'none') fail('tls.grants', "client certificate grants need clientCerts 'request' or 'require'");
  return { cert: at(str(v['cert'], 'tls.cert')), key: at(str(v['key'], 'tls.key')), clientCa, clientCerts: mode, grants };
}

/** The `tls:` section as the fields to merge into the config: `{tls}`, or nothing when absent. */
export function tlsSection(v: unknown, at: (p: string) => string): { tls?: TlsConfig } {
  const tls = parseTlsConfig(v, at);
  return tls === undefined ? {} : { tls };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read TLS ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/** node:https server options for the config: TLS 1.2+, client certificates as configured. */
export function httpsOptions(tls: TlsConfig): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' } {
  return {
    cert: readPem(tls.cert, 'certificate'),
    key: readPem(tls.key, 'key'),
    ...(tls.clientCa === undefined ? {} : { ca: readPem(tls.clientCa, 'client CA') }),
    requestCert: tls.clientCerts !== 'none',
    // 'require' is enforced by enforceClientCertificates (and the authenticator), which can audit.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

export interface RefusedHandshake {
  /** node's verification error (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, …) or CERT_MISSING. */
  code: string;
  ip: string | null;
  /** The presented (unverified) certificate's subject CN, when there was one. */
  presented: string | null;
}

/**
 * clientCerts 'require': every TLS connection without a verified client certificate is reported
 * and destroyed as soon as its handshake completes, before the HTTP server reads from it.
 */
export function enforceClientCertificates(server: Server, onRefused: (refused: RefusedHandshake) => void): void {
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized) return;
    const cert = socket.getPeerX509Certificate();
    const verifyError = socket.authorizationError as Error | string | null | undefined;
    onRefused({
      code: cert === undefined ? 'CERT_MISSING' : String(verifyError ?? 'CERT_UNTRUSTED'),
      ip: socket.remoteAddress ?? null,
      // Unverified, so attacker-chosen: bounded before it goes into the audit log.
      presented: cert === undefined ? null : (commonName(cert)?.toWellFormed().slice(0, 200) ?? null),
    });
    socket.destroy();
  });
}

/** What the TLS layer says about the client of a request. */
export interface TlsPeer {
  /** The client certificate chains to the configured client CA. */
  authorized: boolean;
  /** The client's leaf certificate, when it sent one. */
  certificate: X509Certificate | undefined;
}

// A connection's peer does not change (node refuses client-initiated renegotiation beyond its
// limit, and TLS 1.3 has none): read it once per connection, not once per request.
const peers = new WeakMap<object, TlsPeer>();

/** The TLS peer of a connection; undefined on plain HTTP (and for in-process inject()). */
export function tlsPeer(socket: unknown): TlsPeer | undefined {
  const s = socket as Partial<TLSSocket> | null | undefined;
  if (s === null || s === undefined || s.encrypted !== true || typeof s.getPeerX509Certificate !== 'function') return undefined;
  let peer = peers.get(s);
  if (peer === undefined) {
    peer = { authorized: s.authorized === true, certificate: s.getPeerX509Certificate() };
    peers.set(s, peer);
  }
  return peer;
}

/** The subject's CN (the last one, as most TLS stacks take it). */
export function commonName(cert: X509Certificate): string | undefined {
  let cn: string | undefined;
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) cn = line.slice(3);
  return cn;
}

/**
 * subjectAltName entries as `TYPE:value` (node's form: `DNS:a, URI:b`; values with separators
 * are JSON-quoted).
 */
export function subjectAltNames(cert: X509Certificate): string[] {
  return parseSubjectAltName(cert.subjectAltName ?? '');
}

/** node's subjectAltName text → entries; never throws (an entry it cannot read is skipped). */
export function parseSubjectAltName(text: string): string[] {
  if (text === '') return [];
  const out: string[] = [];
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // Leave an unparsable quoted value as it is: it then matches nothing configured.
      }
    }
    out.push(`${m[1]!}:${value}`);
  }
  return out;
}

export function certFingerprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** Audit name of a certificate: `cert:<CN or first SAN>#<first 16 hex of its sha256>`. */
export function certActor(cert: X509Certificate): string {
  const name = commonName(cert) ?? subjectAltNames(cert)[0] ?? 'unnamed';
  return `cert:${name.toWellFormed().slice(0, 200)}#${certFingerprint(cert).slice(0, 16)}`;
}

function grantMatches(grant: CertGrant, cert: X509Certificate): boolean {
  const { commonName: cn, san, fingerprint } = grant.match;
  if (cn !== undefined && commonName(cert) !== cn) return false;
  if (san !== undefined && !subjectAltNames(cert).includes(san)) return false;
  if (fingerprint !== undefined && certFingerprint(cert) !== fingerprint) return false;
  return true;
}

/**
 * The principal of a verified client certificate. Throws 401 for a certificate the client CA did
 * not sign, 403 for a verified one no grant names (deny by default).
 */
export function certificatePrincipal(peer: TlsPeer & { certificate: X509Certificate }, grants: readonly CertGrant[]): Principal {
  if (!peer.authorized) throw new ApiError(401, 'CERT_UNTRUSTED', 'the client certificate is not signed by a CA this server trusts');
  const actor = certActor(peer.certificate);
  const grant = grants.find((g) => grantMatches(g, peer.certificate));
  if (grant === undefined) throw new ApiError(403, 'FORBIDDEN', 'no grant on this server matches the client certificate', { auditActor: actor });
  return { actor, kind: 'certificate', role: grant.role, namespaces: grant.namespaces };
}
