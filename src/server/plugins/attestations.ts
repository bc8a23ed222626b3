// Attestations service: upload (one document, or a batch as NDJSON), list with filters and
// cursor pagination, fetch the exact stored bytes, and the provenance graph of an artifact.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VerificationError, isCustodyError } from '../../core/index.ts';
import { prepareAttestation, provenanceGraph, type DigestRef, type NewAttestation, type PutResult } from '../../store/index.ts';
import type { AppContext } from '../app.ts';
import { attestationLogEntry } from '../log-service.ts';
import { ApiError } from '../errors.ts';
import { documentSchema, errorResponses, namespaceSchema, putResultSchema, summarySchema } from '../schemas.ts';

const digestParam = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}:[0-9a-fA-F]{16,256}$', description: 'ALGORITHM:HEX, e.g. sha256:…' } as const;

function parseDigestParam(text: string): DigestRef {
  const i = text.indexOf(':');
  return { algorithm: text.slice(0, i), value: text.slice(i + 1).toLowerCase() };
}

interface UploadQuery {
  namespace: string;
}

interface ListQuery {
  namespace: string;
  subject?: string;
  predicateType?: string;
  signer?: string;
  step?: string;
  since?: string;
  cursor?: string;
  limit: number;
}

function putView(namespace: string, record: NewAttestation, result: PutResult): Record<string, unknown> {
  return {
    id: result.id,
    namespace,
    created: result.created,
    createdAt: result.createdAt,
    predicateType: record.predicateType,
    ...(record.step === undefined ? {} : { step: record.step }),
    subjects: record.subjects,
    verification: record.verification,
  };
}

export function attestationsPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const { store, config } = ctx;

  /** Audits a write that was refused for its content, then throws the refusal. */
  async function refuse(request: FastifyRequest, namespace: string, error: Error, status: number, detail: Record<string, unknown>): Promise<never> {
    await store.write([{ audit: ctx.draft(request, { action: 'attestations.write', namespace, target: null, outcome: 'failed', status, detail }) }]);
    throw error;
  }

  app.post<{ Querystring: UploadQuery; Body: unknown }>(
    '/v1/attestations',
    {
      config: { permission: 'attestations.write', namespaced: true },
      schema: {
        summary: 'Upload attestations',
        description:
          'Body: one DSSE envelope or Sigstore bundle v0.3 holding one (application/json), or a batch of them, one per line (application/x-ndjson). ' +
          'Each is stored byte for byte under the sha256 of its bytes; uploading the same bytes again changes nothing. Signatures are checked against the ' +
          "server's trusted keys and the result recorded.",
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
        body: { anyOf: [documentSchema, { type: 'array', minItems: 1, maxItems: config.limits.batchItems, items: documentSchema }] },
        response: { 200: { anyOf: [putResultSchema, { type: 'object', required: ['results'], properties: { results: { type: 'array', items: putResultSchema } } }] }, 201: putResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace } = request.query;
      const batch = Array.isArray(request.body);
      const raws = batch ? (request.rawItems ?? []) : request.rawBody === null ? [] : [request.rawBody];
      const records: NewAttestation[] = [];
      const errors: { index: number; code: string; message: string }[] = [];
      raws.forEach((bytes, index) => {
        try {
          records.push(prepareAttestation(bytes, { trustedKeys: ctx.trustedKeys }));
        } catch (e) {
          if (!isCustodyError(e)) throw e;
          errors.push({ index, code: e.code, message: e.message });
        }
      });
      // All or nothing: a batch with any bad document stores none, and says what is wrong with each.
      if (errors.length > 0) {
        const first = errors[0]!;
        const error = batch
          ? new ApiError(400, 'BATCH_INVALID', `${errors.length} of ${raws.length} documents are invalid`, { details: { errors } })
          : new ApiError(400, first.code as 'BATCH_INVALID', first.message);
        return refuse(request, namespace, error, 400, { errors: errors.slice(0, 20).map((e) => ({ index: e.index, code: e.code })) });
      }
      if (config.attestations.rejectUnverified) {
        const unverified = records.findIndex((r) => r.verification.status !== 'verified');
        if (unverified >= 0) {
          const code = (records[unverified]!.verification.code ?? 'SIGNATURE_MISSING') as VerificationError['code'];
          const error = new VerificationError(code, `document ${unverified} is not signed by a trusted key and this server refuses unverified attestations`);
          return refuse(request, namespace, error, 422, { index: unverified, code });
        }
      }
      const [result] = await store.write([
        {
          attestations: { namespace, records },
          audit: ctx.draft(request, {
            action: 'attestations.write',
            namespace,
            target: records.length === 1 ? records[0]!.id : null,
            outcome: 'allowed',
            status: batch ? 200 : 201,
            detail: { ids: records.map((r) => r.id) },
          }),
        },
      ]);
      const puts = result!.attestations;
      // Every accepted attestation goes into the transparency log (deduplicated there).
      await ctx.transparencyLog?.append(records.map((r) => attestationLogEntry(namespace, r.id, r.predicateType)));
      for (const p of puts) ctx.metrics.ingested.inc({ namespace, result: p.created ? 'created' : 'existing' });
      const views = records.map((r, i) => putView(namespace, r, puts[i]!));
      if (batch) return reply.code(200).send({ results: views });
      return reply.code(puts[0]!.created ? 201 : 200).send(views[0]);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/v1/attestations',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: 'Find attestations',
        description: 'Newest first. Filters combine with AND. Follow nextCursor for the next page.',
        querystring: {
          type: 'object',
          properties: {
            namespace: namespaceSchema,
            subject: { ...digestParam, description: 'a subject digest, ALGORITHM:HEX' },
            predicateType: { type: 'string', minLength: 1, maxLength: 1024 },
            signer: { type: 'string', minLength: 1, maxLength: 256, description: 'key id of a trusted key that verified' },
            step: { type: 'string', minLength: 1, maxLength: 256 },
            since: { type: 'string', format: 'date-time' },
            cursor: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: summarySchema }, nextCursor: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return store.listAttestations({
        namespace: q.namespace,
        limit: q.limit,
        ...(q.subject === undefined ? {} : { subject: parseDigestParam(q.subject) }),
        ...(q.predicateType === undefined ? {} : { predicateType: q.predicateType }),
        ...(q.signer === undefined ? {} : { signer: q.signer }),
        ...(q.step === undefined ? {} : { step: q.step }),
        ...(q.since === undefined ? {} : { since: new Date(q.since) }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { namespace: string } }>(
    '/v1/attestations/:id',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: 'Fetch an attestation: the exact bytes stored',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
        response: { 200: { description: 'The stored document, byte for byte (its sha256 is the id).', content: { 'application/json': { schema: documentSchema } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const found = await store.getAttestation(request.query.namespace, request.params.id);
      if (found === undefined) throw new ApiError(404, 'NOT_FOUND', `no attestation ${request.params.id} in namespace '${request.query.namespace}'`);
      return reply
        .type(found.mediaType)
        .header('etag', `"${found.id}"`)
        .header('custody-verification', found.verification.status)
        .send(Buffer.from(found.bytes.buffer, found.bytes.byteOffset, found.bytes.byteLength));
    },
  );

  app.get<{ Params: { digest: string }; Querystring: { namespace: string; depth: number } }>(
    '/v1/artifacts/:digest/graph',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: 'Provenance graph of an artifact, in one round trip',
        description:
          'The attestations naming the artifact as a subject, then the attestations naming their materials as subjects, and so on for `depth` hops; then, ' +
          'through the material index, the steps that consumed only materials of the graph and produced nothing on its path (a lint, a secret scan: ' +
          '`consumers` lists their ids), leaving out other runs of a step that produced one of its artifacts; a material more than 1,000 attestations ' +
          'consumed (a shell, a compiler) is not followed and is listed in `skippedMaterials`. ' +
          '`truncated`: the attestation limit (limits.graphMaxAttestations, consumers included) was reached.',
        params: { type: 'object', required: ['digest'], properties: { digest: digestParam } },
        querystring: {
          type: 'object',
          properties: { namespace: namespaceSchema, depth: { type: 'integer', minimum: 0, maximum: 16, default: 3 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['root', 'depth', 'artifacts', 'attestations', 'consumers', 'skippedMaterials', 'truncated'],
            properties: {
              root: { type: 'object', properties: { algorithm: { type: 'string' }, value: { type: 'string' } } },
              depth: { type: 'integer' },
              artifacts: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { digest: { type: 'object', properties: { algorithm: { type: 'string' }, value: { type: 'string' } } }, depth: { type: 'integer' } },
                },
              },
              attestations: { type: 'array', items: summarySchema },
              consumers: { type: 'array', items: { type: 'string' }, description: 'ids of the attestations reached through their materials only' },
              skippedMaterials: {
                type: 'array',
                items: { type: 'object', properties: { algorithm: { type: 'string' }, value: { type: 'string' } } },
                description: 'materials consumed by too many attestations to follow to their consumers',
              },
              truncated: { type: 'boolean' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) =>
      provenanceGraph(store, {
        namespace: request.query.namespace,
        root: parseDigestParam(request.params.digest),
        depth: request.query.depth,
        maxAttestations: config.limits.graphMaxAttestations,
      }),
  );
  return Promise.resolve();
}
