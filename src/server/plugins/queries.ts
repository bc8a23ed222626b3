// Read-only questions the dashboard (and any API client) asks of the store, answered server side:
// find artifacts by subject name or digest, "which artifacts contain package X" from the stored
// SBOM attestations, and the verdict of a policy over an artifact's stored evidence. Public,
// documented routes (OpenAPI at /docs/openapi.json) under the attestations.read permission.
import type { FastifyInstance } from 'fastify';
import { decodeBase64, parseEnvelope, type DigestSet } from '../../core/index.ts';
import { evaluatePolicy, parsePolicyDocument, type AttestationInput } from '../../policy/index.ts';
import { provenanceGraph, type AttestationSummary, type DigestRef, type Store, type StoredAttestation } from '../../store/index.ts';
import type { AppContext } from '../app.ts';
import { errorResponses, namespaceSchema } from '../schemas.ts';

const CYCLONEDX = 'https://cyclonedx.org/bom';
const SPDX = 'https://spdx.dev/Document';
/** How many attestation summaries or SBOMs one query reads at most (then it says `truncated`). */
export const QUERY_SCAN_LIMIT = 20_000;
const PAGE = 1000;
/** How many attestations of an artifact's provenance graph a verdict reads at most (then evidence.truncated). */
const VERDICT_MAX_ATTESTATIONS = 500;
const DIGEST_TEXT = /^([A-Za-z0-9_-]{1,32}):([0-9a-fA-F]{16,256})$/;

const artifactSchema = {
  type: 'object',
  required: ['name', 'digest', 'attestations', 'lastSeen'],
  properties: {
    name: { type: 'string' },
    digest: { type: 'object', additionalProperties: { type: 'string' } },
    attestations: { type: 'integer', description: 'attestations naming it as a subject (within the scan)' },
    predicateTypes: { type: 'array', items: { type: 'string' } },
    lastSeen: { type: 'string' },
  },
} as const;

interface ArtifactView {
  name: string;
  digest: Record<string, string>;
  attestations: number;
  predicateTypes: string[];
  lastSeen: string;
}

/** Pages through summaries newest first, up to QUERY_SCAN_LIMIT; `visit` returns false to stop. */
async function scan(store: Store, namespace: string, predicateType: string | undefined, visit: (s: AttestationSummary) => boolean): Promise<{ scanned: number; truncated: boolean }> {
  let cursor: string | undefined;
  let scanned = 0;
  for (;;) {
    const page = await store.listAttestations({ namespace, limit: PAGE, ...(predicateType === undefined ? {} : { predicateType }), ...(cursor === undefined ? {} : { cursor }) });
    for (const [i, s] of page.items.entries()) {
      scanned++;
      if (!visit(s) || scanned >= QUERY_SCAN_LIMIT) return { scanned, truncated: page.nextCursor !== undefined || i < page.items.length - 1 };
    }
    if (page.nextCursor === undefined) return { scanned, truncated: false };
    cursor = page.nextCursor;
  }
}

function primaryKey(digest: Record<string, string>): string {
  const alg = digest['sha256'] !== undefined ? 'sha256' : Object.keys(digest).sort()[0];
  return alg === undefined ? '' : `${alg}:${digest[alg]}`;
}

/** The in-toto Statement inside a stored DSSE envelope or Sigstore bundle, or undefined. */
export function statementOf(found: Pick<StoredAttestation, 'bytes'>): Record<string, unknown> | undefined {
  try {
    const doc = JSON.parse(Buffer.from(found.bytes).toString('utf8')) as Record<string, unknown>;
    const envelope = parseEnvelope('dsseEnvelope' in doc ? doc['dsseEnvelope'] : doc);
    const statement = JSON.parse(Buffer.from(decodeBase64(envelope.payload, 'payload')).toString('utf8')) as unknown;
    return typeof statement === 'object' && statement !== null && !Array.isArray(statement) ? (statement as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface ComponentHit {
  name: string;
  version?: string;
  purl?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Components of a CycloneDX BOM (nested components included) or packages of an SPDX 2 document. */
export function componentsOf(predicateType: string, predicate: unknown): ComponentHit[] {
  const out: ComponentHit[] = [];
  if (typeof predicate !== 'object' || predicate === null) return out;
  const push = (name: unknown, version: unknown, purl: unknown): void => {
    const n = str(name);
    if (n === undefined) return;
    const v = str(version);
    const p = str(purl);
    out.push({ name: n, ...(v === undefined ? {} : { version: v }), ...(p === undefined ? {} : { purl: p }) });
  };
  if (predicateType === CYCLONEDX) {
    const stack: unknown[] = [(predicate as Record<string, unknown>)['components']];
    while (stack.length > 0 && out.length < 100_000) {
      const list = stack.pop();
      if (!Array.isArray(list)) continue;
      for (const c of list as Record<string, unknown>[]) {
        if (typeof c !== 'object' || c === null) continue;
        push(c['name'], c['version'], c['purl']);
        stack.push(c['components']);
      }
    }
  } else {
    const packages = (predicate as Record<string, unknown>)['packages'];
    for (const p of Array.isArray(packages) ? (packages as Record<string, unknown>[]) : []) {
      if (typeof p !== 'object' || p === null) continue;
      const refs = Array.isArray(p['externalRefs']) ? (p['externalRefs'] as Record<string, unknown>[]) : [];
      const purl = refs.find((r) => typeof r === 'object' && r !== null && r['referenceType'] === 'purl')?.['referenceLocator'];
      push(p['name'], p['versionInfo'], purl);
    }
  }
  return out;
}

/** Does the component match the query (a name, compared case-insensitively, or a purl prefix)? */
export function componentMatches(c: ComponentHit, query: string, version: string | undefined): boolean {
  const q = query.toLowerCase();
  const purl = (c.purl ?? '').toLowerCase();
  const byName = q.startsWith('pkg:') ? purl.startsWith(q) : c.name.toLowerCase() === q;
  return byName && (version === undefined || c.version === version);
}

function parseDigestText(text: string): DigestRef | undefined {
  const m = DIGEST_TEXT.exec(text);
  return m === null ? undefined : { algorithm: m[1]!, value: m[2]!.toLowerCase() };
}

export function queriesPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const { store } = ctx;

  app.get<{ Querystring: { namespace: string; q?: string; limit: number } }>(
    '/v1/artifacts',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: 'Find artifacts by subject name or digest',
        description:
          'The subjects of stored attestations, newest first, one entry per digest. `q`: a digest (ALGORITHM:HEX or a hex prefix of at least 8) or a case-insensitive ' +
          `part of the subject name; without q, the newest artifacts. Reads at most ${QUERY_SCAN_LIMIT} attestation summaries (then truncated: true).`,
        querystring: {
          type: 'object',
          properties: { namespace: namespaceSchema, q: { type: 'string', maxLength: 300 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', required: ['items', 'scanned', 'truncated'], properties: { items: { type: 'array', items: artifactSchema }, scanned: { type: 'integer' }, truncated: { type: 'boolean' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { namespace, limit } = request.query;
      const q = (request.query.q ?? '').trim().toLowerCase();
      const exact = parseDigestText(q);
      if (exact !== undefined) {
        // A full digest: the subject index answers directly.
        const found = await store.attestationsBySubjects(namespace, [exact], QUERY_SCAN_LIMIT);
        const items = collect(found, (_name, digest) => digest[exact.algorithm] === exact.value);
        return { items: items.slice(0, limit), scanned: found.length, truncated: false };
      }
      const hexPrefix = /^[0-9a-f]{8,}$/.test(q) ? q : undefined;
      const byKey = new Map<string, ArtifactView>();
      const result = await scan(store, namespace, undefined, (s) => {
        for (const subject of s.subjects) {
          const name = subject.name ?? '';
          const digest = subject.digest as Record<string, string>;
          const hit = q === '' || name.toLowerCase().includes(q) || (hexPrefix !== undefined && Object.values(digest).some((v) => v.startsWith(hexPrefix)));
          if (hit) add(byKey, s, name, digest);
        }
        return byKey.size < limit;
      });
      return { items: [...byKey.values()].slice(0, limit), ...result };
    },
  );

  function add(byKey: Map<string, ArtifactView>, s: AttestationSummary, name: string, digest: Record<string, string>): void {
    const key = primaryKey(digest);
    if (key === '') return;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, { name, digest: { ...digest }, attestations: 1, predicateTypes: [s.predicateType], lastSeen: s.createdAt });
      return;
    }
    seen.attestations++;
    if (seen.name === '' && name !== '') seen.name = name;
    if (!seen.predicateTypes.includes(s.predicateType)) seen.predicateTypes.push(s.predicateType);
  }

  function collect(summaries: readonly AttestationSummary[], keep: (name: string, digest: Record<string, string>) => boolean): ArtifactView[] {
    const byKey = new Map<string, ArtifactView>();
    for (const s of summaries) for (const subject of s.subjects) if (keep(subject.name ?? '', subject.digest)) add(byKey, s, subject.name ?? '', subject.digest);
    return [...byKey.values()];
  }

  app.get<{ Querystring: { namespace: string; name: string; version?: string; limit: number } }>(
    '/v1/components',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: 'Which artifacts contain a package',
        description:
          'Answered from the stored SBOM attestations (CycloneDX https://cyclonedx.org/bom, SPDX https://spdx.dev/Document): every artifact whose SBOM lists a ' +
          'component named `name` (case-insensitive; or a purl prefix, pkg:npm/lodash), optionally only `version`. Newest SBOMs first; reads at most ' +
          `${QUERY_SCAN_LIMIT} SBOMs (then truncated: true).`,
        querystring: {
          type: 'object',
          required: ['name'],
          properties: { namespace: namespaceSchema, name: { type: 'string', minLength: 1, maxLength: 300 }, version: { type: 'string', minLength: 1, maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['items', 'scanned', 'truncated'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['artifact', 'components', 'sbom'],
                  properties: {
                    artifact: { type: 'object', properties: { name: { type: 'string' }, digest: { type: 'object', additionalProperties: { type: 'string' } } } },
                    components: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, purl: { type: 'string' } } } },
                    sbom: { type: 'object', properties: { id: { type: 'string' }, predicateType: { type: 'string' }, createdAt: { type: 'string' } } },
                  },
                },
              },
              scanned: { type: 'integer' },
              truncated: { type: 'boolean' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { namespace, name, version, limit } = request.query;
      const sboms: AttestationSummary[] = [];
      let truncated = false;
      for (const type of [CYCLONEDX, SPDX]) {
        const r = await scan(store, namespace, type, (s) => sboms.push(s) < QUERY_SCAN_LIMIT);
        truncated ||= r.truncated;
      }
      const items: Record<string, unknown>[] = [];
      for (const s of sboms) {
        if (items.length >= limit) break;
        const found = await store.getAttestation(namespace, s.id);
        const statement = found === undefined ? undefined : statementOf(found);
        if (statement === undefined) continue;
        const hits = componentsOf(s.predicateType, statement['predicate']).filter((c) => componentMatches(c, name, version));
        if (hits.length === 0) continue;
        for (const subject of s.subjects) {
          items.push({ artifact: { name: subject.name ?? '', digest: subject.digest }, components: hits.slice(0, 50), sbom: { id: s.id, predicateType: s.predicateType, createdAt: s.createdAt } });
        }
      }
      return { items: items.slice(0, limit), scanned: sboms.length, truncated };
    },
  );

  app.post<{ Params: { digest: string }; Querystring: { namespace: string; depth: number }; Body: { policy: unknown } }>(
    '/v1/artifacts/:digest/verdict',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: "Evaluate a policy over an artifact's stored evidence",
        description:
          'Body: {"policy": a custody policy document (https://custody.dev/policy/v1, as JSON)}. The attestations of the artifact\'s provenance graph (`depth` hops) ' +
          'are evaluated against it — the graph includes the steps that consumed only its materials (lint, scans; see the graph route) — and the answer is the ' +
          'verdict with every failed rule (issues) and which attestation each concerns (its id); `evidence` says how many attestations were read and whether the ' +
          `graph was cut at ${VERDICT_MAX_ATTESTATIONS} (truncated: a missing step may then be one not read). The policy is the ` +
          "caller's and unsigned: the answer is for display, it admits nothing and changes nothing.",
        params: { type: 'object', required: ['digest'], properties: { digest: { type: 'string', pattern: DIGEST_TEXT.source } } },
        querystring: { type: 'object', properties: { namespace: namespaceSchema, depth: { type: 'integer', minimum: 0, maximum: 16, default: 3 } }, additionalProperties: false },
        body: { type: 'object', required: ['policy'], additionalProperties: false, properties: { policy: { type: 'object', additionalProperties: true } } },
        response: {
          200: {
            type: 'object',
            additionalProperties: true,
            properties: {
              passed: { type: 'boolean' },
              issues: { type: 'array', items: { type: 'object', additionalProperties: true } },
              evidence: {
                type: 'object',
                required: ['attestations', 'consumers', 'skippedMaterials', 'truncated'],
                properties: {
                  attestations: { type: 'integer', description: 'attestations of the provenance graph evaluated' },
                  consumers: { type: 'integer', description: 'of which reached through their materials only (steps such as lint)' },
                  skippedMaterials: { type: 'integer', description: 'materials consumed by too many attestations to follow (see the graph route)' },
                  truncated: { type: 'boolean' },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { namespace, depth } = request.query;
      const root = parseDigestText(request.params.digest)!;
      const document = parsePolicyDocument(request.body.policy);
      const graph = await provenanceGraph(store, { namespace, root, depth, maxAttestations: VERDICT_MAX_ATTESTATIONS });
      const inputs: AttestationInput[] = [];
      for (const s of graph.attestations) {
        const found = await store.getAttestation(namespace, s.id);
        if (found === undefined) continue;
        try {
          const doc = JSON.parse(Buffer.from(found.bytes).toString('utf8')) as Record<string, unknown>;
          inputs.push({ envelope: parseEnvelope('dsseEnvelope' in doc ? doc['dsseEnvelope'] : doc), source: s.id, digest: { sha256: s.id } });
        } catch {
          // Stored documents parsed when they were uploaded; one that no longer does is left out.
        }
      }
      const artifactDigest: DigestSet = { [root.algorithm]: root.value };
      const verdict = evaluatePolicy({ document }, inputs, { allowUnsignedPolicy: true }, { artifactDigest, now: ctx.now() });
      return { ...verdict, evidence: { attestations: inputs.length, consumers: graph.consumers.length, skippedMaterials: graph.skippedMaterials.length, truncated: graph.truncated } };
    },
  );
  return Promise.resolve();
}
