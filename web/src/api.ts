// The dashboard's only way to the server: the public, documented HTTP API (/docs/openapi.json),
// with the user's API token as a bearer token. The token lives in sessionStorage (gone when the
// tab closes), never in a cookie and never in a URL.

const TOKEN_KEY = 'custody.token';
const NAMESPACE_KEY = 'custody.namespace';
const POLICY_KEY = 'custody.policy';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}
export function getNamespace(): string {
  return sessionStorage.getItem(NAMESPACE_KEY) ?? 'default';
}
export function setNamespace(ns: string): void {
  sessionStorage.setItem(NAMESPACE_KEY, ns);
}
/** The policy document the user loaded (JSON text), kept in this browser. */
export function getPolicyText(): string | null {
  return localStorage.getItem(POLICY_KEY);
}
export function setPolicyText(text: string | null): void {
  if (text === null) localStorage.removeItem(POLICY_KEY);
  else localStorage.setItem(POLICY_KEY, text);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!response.ok) {
    let code = 'HTTP_' + String(response.status);
    let message = response.statusText;
    try {
      const e = (await response.json()) as { code?: string; message?: string };
      code = e.code ?? code;
      message = e.message ?? message;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, code, message);
  }
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request('GET', path)).json()) as T;
}
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await request('POST', path, body)).json()) as T;
}
export async function getText(path: string): Promise<{ text: string; headers: Headers }> {
  const r = await request('GET', path);
  return { text: await r.text(), headers: r.headers };
}

/** `path?namespace=…&k=v` with the current namespace. */
export function q(path: string, params: Record<string, string | number | undefined> = {}): string {
  const sp = new URLSearchParams({ namespace: getNamespace() });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') sp.set(k, String(v));
  return `${path}?${sp.toString()}`;
}

// Shapes of the API answers the dashboard reads (see the OpenAPI document).
export type DigestSet = Record<string, string>;
export interface Summary {
  id: string;
  namespace: string;
  mediaType: string;
  payloadType: string;
  predicateType: string;
  step?: string;
  subjects: { name?: string; digest: DigestSet }[];
  materials: { name?: string; uri?: string; digest: DigestSet }[];
  verification: { status: 'verified' | 'unverified'; keyids: string[]; code?: string };
  claimedKeyids: string[];
  size: number;
  createdAt: string;
}
export interface ArtifactItem {
  name: string;
  digest: DigestSet;
  attestations: number;
  predicateTypes: string[];
  lastSeen: string;
}
export interface Graph {
  root: { algorithm: string; value: string };
  depth: number;
  artifacts: { digest: { algorithm: string; value: string }; depth: number }[];
  attestations: Summary[];
  /** Ids of the attestations reached through their materials only (steps such as lint that produce nothing on the path). */
  consumers?: string[];
  /** Materials consumed by too many attestations (tools) to follow to their consumers. */
  skippedMaterials?: { algorithm: string; value: string }[];
  truncated: boolean;
}
export interface Issue {
  code: string;
  severity: 'error' | 'warning';
  step?: string;
  rule?: string;
  attestation?: string;
  artifact?: string;
  reason: string;
}
export interface Verdict {
  passed: boolean;
  policy: { name?: string; expires?: string };
  issues: Issue[];
  evaluatedAt: string;
  /** How many attestations of the provenance graph were evaluated; truncated: the graph was cut at the server's limit. */
  evidence?: { attestations: number; consumers: number; skippedMaterials?: number; truncated: boolean };
}

/** The preferred `ALG:HEX` text of a digest set (sha256 first). */
export function digestText(d: DigestSet): string {
  const alg = d['sha256'] !== undefined ? 'sha256' : Object.keys(d).sort()[0];
  return alg === undefined ? '' : `${alg}:${d[alg] ?? ''}`;
}
export function short(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest.slice(0, 12) : `${digest.slice(0, i)}:${digest.slice(i + 1, i + 13)}`;
}

/** The in-toto Statement inside the exact stored bytes of a DSSE envelope or Sigstore bundle. */
export function decodeStatement(text: string): { statement: Record<string, unknown>; signatures: { keyid?: string }[] } | undefined {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const env = ('dsseEnvelope' in doc ? doc['dsseEnvelope'] : doc) as { payload: string; signatures?: { keyid?: string }[] };
    const bin = atob(env.payload);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return { statement: JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>, signatures: env.signatures ?? [] };
  } catch {
    return undefined;
  }
}

/** RFC 8785 canonical JSON of plain objects of strings (all the log entries need). */
function jcs(v: unknown): string {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${jcs(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** RFC 6962 leaf hash of the log entry the server appends for a stored attestation (log-service.ts). */
export async function attestationLeafHash(namespace: string, id: string, predicateType: string): Promise<string> {
  const entry = new TextEncoder().encode(jcs({ apiVersion: '0.0.1', kind: 'custody-attestation', spec: { namespace, digest: { sha256: id }, predicateType } }));
  const leaf = new Uint8Array(entry.length + 1);
  leaf.set(entry, 1);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', leaf));
  return [...hash].map((b) => b.toString(16).padStart(2, '0')).join('');
}
