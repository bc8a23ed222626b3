// The signing service's HTTP client for the CLI: POST /v1/sign with only the digest, and the
// published revocation list.
import { InputError, PolicyError } from '../core/index.ts';
import type { SignContent } from './sign-service.ts';
import type { SignMode } from './sign-config.ts';

export interface RemoteSignRequest {
  digest: string;
  keyRef: string;
  artifactName: string;
  mode: SignMode;
  content: SignContent;
  attestationIds?: string[];
  namespace?: string;
}

export interface RemoteSignResult {
  bundle: unknown;
  keyid: string;
  signatureDigest: string;
  logIndex?: number;
  jobId?: string;
}

async function call(server: string, path: string, init: RequestInit): Promise<unknown> {
  const base = server.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, init);
  } catch (e) {
    throw new InputError('SERVER_UNAVAILABLE', `cannot reach ${base}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown; reasons?: unknown };
  if (response.ok) return body;
  const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`;
  // A policy refusal names the failed rules (`reasons`): the one line says which, not just that.
  const reasons = Array.isArray(body.reasons) ? body.reasons.filter((r): r is string => typeof r === 'string').slice(0, 5) : [];
  const message =
    `${init.method ?? 'GET'} ${path}: server answered ${response.status} ${code}${typeof body.message === 'string' ? `: ${body.message}` : ''}` +
    (reasons.length > 0 ? ` (${reasons.join('; ').replace(/[\r\n]+/g, ' ')})` : '');
  if (response.status === 401 || response.status === 403) throw new PolicyError('ACCESS_DENIED', message);
  if (response.status === 422) throw new PolicyError('POLICY_FAILED', message);
  if (response.status >= 500) throw new InputError('SERVER_UNAVAILABLE', message);
  throw new InputError('SERVER_REFUSED', message);
}

export async function remoteSign(server: string, token: string | undefined, req: RemoteSignRequest): Promise<RemoteSignResult> {
  const { namespace, ...body } = req;
  const q = namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token !== undefined && token !== '') headers['authorization'] = `Bearer ${token}`;
  return (await call(server, `/v1/sign${q}`, { method: 'POST', headers, body: JSON.stringify(body) })) as RemoteSignResult;
}

export async function fetchJson(server: string, path: string): Promise<unknown> {
  return call(server, path, { method: 'GET', headers: { accept: 'application/json' } });
}
