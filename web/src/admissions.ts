// Past admission decisions of the deploy gate (custody serve with a `gate:` section audits each
// webhook decision, one entry per image: action `gate.admission`, target `sha256:HEX`), read from
// the audit log (GET /v1/audit, permission audit.read: admin tokens). Only the newest entries are
// read (WINDOW); older decisions are not shown.
import { ApiError, getJson } from './api.ts';

export const WINDOW = 1000;

export interface Admission {
  seq: number;
  at: string;
  /** ALG:HEX of the image. */
  digest: string;
  allowed: boolean;
  image: string;
  kubernetesNamespace: string;
  mode: string;
  reasons: string[];
}

interface AuditEntry {
  seq: number;
  at: string;
  action: string;
  namespace: string | null;
  target: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

/** Admission entries of the namespace, newest first; `forbidden` when the token may not read the audit log. */
export async function loadAdmissions(namespace: string): Promise<{ forbidden: boolean; items: Admission[] }> {
  let head: number;
  try {
    head = (await getJson<{ head: { seq: number } | null }>('/v1/audit?after=0&limit=1')).head?.seq ?? 0;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 401)) return { forbidden: true, items: [] };
    throw e;
  }
  const page = await getJson<{ items: AuditEntry[] }>(`/v1/audit?after=${Math.max(0, head - WINDOW)}&limit=${WINDOW}`);
  const items: Admission[] = [];
  for (const e of page.items) {
    if (e.action !== 'gate.admission' || e.target === null || e.namespace !== namespace) continue;
    const d = e.detail;
    items.push({
      seq: e.seq,
      at: e.at,
      digest: e.target,
      allowed: e.outcome === 'allowed',
      image: typeof d['image'] === 'string' ? d['image'] : e.target,
      kubernetesNamespace: typeof d['kubernetesNamespace'] === 'string' ? d['kubernetesNamespace'] : '',
      mode: typeof d['mode'] === 'string' ? d['mode'] : '',
      reasons: Array.isArray(d['reasons']) ? d['reasons'].filter((r): r is string => typeof r === 'string') : [],
    });
  }
  return { forbidden: false, items: items.reverse() };
}
