// A thin HTTP client of the server for the CLI (push, query, token, audit with --server). The
// token comes from the caller or CUSTODY_TOKEN. Server errors become custody errors: 4xx input
// problems exit 2, 401/403 exit 1, an unreachable or failing server exits 2. Over HTTPS it can
// trust a private CA and present a client certificate (mTLS): paths from the caller or
// CUSTODY_CACERT, CUSTODY_CERT and CUSTODY_KEY.
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { InputError, PolicyError, digestFile, parseDigestString } from '../core/index.ts';
import type { AttestationPage, AuditEntry, AuditHead, ProvenanceGraph, TokenRecord } from '../store/index.ts';
import type { CreatedToken } from './api-tokens.ts';
import type { AuditVerification } from './audit.ts';

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8420 */
  server: string;
  /** API token or OIDC JWT; default: the CUSTODY_TOKEN environment variable. */
  token?: string;
  /** Documents per NDJSON request when pushing many. */
  batchSize?: number;
  /** TLS files (PEM paths); each defaults to its environment variable. */
  tls?: ClientTlsOptions;
}

export interface ClientTlsOptions {
  /** CA bundle to trust for the server's certificate (default: CUSTODY_CACERT, else the system CAs). */
  cacert?: string;
  /** Client certificate for mTLS (default: CUSTODY_CERT); needs `key`. */
  cert?: string;
  /** Its private key (default: CUSTODY_KEY). */
  key?: string;
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

/** An https.Agent for the TLS files, or undefined when none is given (then fetch() does the work). */
export function tlsAgent(options: ClientTlsOptions = {}): Agent | undefined {
  const env = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);
  const cacert = options.cacert ?? env('CUSTODY_CACERT');
  const cert = options.cert ?? env('CUSTODY_CERT');
  const key = options.key ?? env('CUSTODY_KEY');
  if (cacert === undefined && cert === undefined && key === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new InputError('USAGE', 'a client certificate needs its key: give both --cert and --key (or CUSTODY_CERT and CUSTODY_KEY)');
  return new Agent({
    keepAlive: true,
    ...(cacert === undefined ? {} : { ca: readTlsFile(cacert, 'CA certificate') }),
    ...(cert === undefined ? {} : { cert: readTlsFile(cert, 'client certificate') }),
    ...(key === undefined ? {} : { key: readTlsFile(key, 'client key') }),
  });
}

/** fetch() over node:https with an agent (undici's fetch takes no TLS files). */
function fetchWithAgent(url: string, init: { method: string; headers: Record<string, string>; body?: string | Uint8Array }, agent: Agent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method, headers: init.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
      });
    });
    // fetch() reports a network failure as a TypeError with the cause attached; so does this.
    req.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
    req.end(init.body);
  });
}

export interface PushResult {
  id: string;
  namespace: string;
  created: boolean;
  createdAt: string;
  predicateType: string;
  step?: string;
  verification: { status: 'verified' | 'unverified'; keyids: string[]; code?: string };
}

export interface QueryFilters {
  namespace?: string;
  /** ALG:HEX digest of a subject. */
  subject?: string;
  predicateType?: string;
  signer?: string;
  step?: string;
  since?: string;
  cursor?: string;
  limit?: number;
}

interface ErrorBody {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

export class CustodyClient {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #batchSize: number;
  readonly #agent: Agent | undefined;

  constructor(options: ClientOptions) {
    this.#base = options.server.replace(/\/+$/, '');
    this.#token = options.token ?? process.env['CUSTODY_TOKEN'];
    this.#batchSize = options.batchSize ?? 500;
    this.#agent = this.#base.startsWith('https:') ? tlsAgent(options.tls) : undefined;
  }

  /** Closes kept-alive TLS connections (a CLI process exits anyway). */
  close(): void {
    this.#agent?.destroy();
  }

  async #request(method: string, path: string, body?: { type: string; data: string | Uint8Array }): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined && this.#token !== '') headers['authorization'] = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = body.type;
    let response: Response;
    try {
      const init = { method, headers, ...(body === undefined ? {} : { body: body.data }) };
      response = this.#agent === undefined ? await fetch(`${this.#base}${path}`, init) : await fetchWithAgent(`${this.#base}${path}`, init, this.#agent);
    } catch (e) {
      throw new InputError('SERVER_UNAVAILABLE', `cannot reach ${this.#base}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : String(e)}`, { cause: e });
    }
    if (response.ok) return response;
    let parsed: ErrorBody = {};
    try {
      parsed = (await response.json()) as ErrorBody;
    } catch {
      // Not our JSON error body (a proxy's page): report the status alone.
    }
    const code = typeof parsed.code === 'string' ? parsed.code : `HTTP_${response.status}`;
    const message = `${method} ${path}: server answered ${response.status} ${code}${typeof parsed.message === 'string' ? `: ${parsed.message}` : ''}`;
    if (response.status === 401 || response.status === 403) throw new PolicyError('ACCESS_DENIED', message);
    if (response.status >= 500) throw new InputError('SERVER_UNAVAILABLE', message);
    throw new InputError('SERVER_REFUSED', message);
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#request(method, path, body === undefined ? undefined : { type: 'application/json', data: JSON.stringify(body) });
    return (await response.json()) as T;
  }

  /** Uploads documents (exact bytes); one request per batch of up to batchSize documents. */
  async push(documents: readonly Uint8Array[], namespace?: string): Promise<PushResult[]> {
    const q = namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`;
    if (documents.length === 1) {
      const response = await this.#request('POST', `/v1/attestations${q}`, { type: 'application/json', data: documents[0]! });
      return [(await response.json()) as PushResult];
    }
    const results: PushResult[] = [];
    for (let i = 0; i < documents.length; i += this.#batchSize) {
      const chunk = documents.slice(i, i + this.#batchSize);
      const data = Buffer.concat(chunk.flatMap((d) => [Buffer.from(d), Buffer.from('\n')]));
      const response = await this.#request('POST', `/v1/attestations${q}`, { type: 'application/x-ndjson', data });
      results.push(...((await response.json()) as { results: PushResult[] }).results);
    }
    return results;
  }

  query(filters: QueryFilters = {}): Promise<AttestationPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.#json('GET', `/v1/attestations${qs === '' ? '' : `?${qs}`}`);
  }

  /** Every page of a query. */
  async *queryAll(filters: QueryFilters = {}): AsyncGenerator<AttestationPage['items'][number]> {
    let cursor = filters.cursor;
    do {
      const page = await this.query({ ...filters, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  async get(id: string, namespace?: string): Promise<Uint8Array> {
    const response = await this.#request('GET', `/v1/attestations/${encodeURIComponent(id)}${namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  graph(digest: string, options: { depth?: number; namespace?: string } = {}): Promise<ProvenanceGraph> {
    const params = new URLSearchParams();
    if (options.depth !== undefined) params.set('depth', String(options.depth));
    if (options.namespace !== undefined) params.set('namespace', options.namespace);
    return this.#json('GET', `/v1/artifacts/${encodeURIComponent(digest)}/graph?${params.toString()}`);
  }

  createToken(request: { role: string; namespaces?: string[]; expires?: string; description?: string }): Promise<CreatedToken> {
    return this.#json('POST', '/v1/tokens', request);
  }

  async listTokens(): Promise<Omit<TokenRecord, 'secretHash'>[]> {
    return (await this.#json<{ items: Omit<TokenRecord, 'secretHash'>[] }>('GET', '/v1/tokens')).items;
  }

  async revokeToken(id: string): Promise<void> {
    await this.#json('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }

  readAudit(after = 0, limit = 100): Promise<{ items: AuditEntry[]; head: AuditHead }> {
    return this.#json('GET', `/v1/audit?after=${after}&limit=${limit}`);
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.#json('GET', '/v1/audit/verify');
  }
}

/**
 * The documents in a file: one JSON document, or JSON Lines (one per line, as in-toto's
 * `.intoto.jsonl` bundles). Each document keeps its exact bytes.
 */
export function readDocuments(path: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  try {
    JSON.parse(bytes.toString('utf8'));
    return [bytes];
  } catch {
    const lines = bytes
      .toString('latin1')
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
      .filter((l) => l.trim() !== '');
    if (lines.length <= 1) throw new InputError('JSON_INVALID', `${path} is neither a JSON document nor JSON Lines`);
    return lines.map((l) => Buffer.from(l, 'latin1'));
  }
}

/** `sha256:HEX` as given, or the sha256 of a file. */
export async function subjectDigest(fileOrDigest: string): Promise<string> {
  if (/^[A-Za-z0-9_-]{1,32}:[0-9a-fA-F]{16,}$/.test(fileOrDigest)) {
    const { algorithm, value } = parseDigestString(fileOrDigest);
    return `${algorithm}:${value}`;
  }
  const set = await digestFile(fileOrDigest, ['sha256']);
  return `sha256:${set['sha256']!}`;
}
