// Rebuild jobs: provenance stored here waits for independent rebuilders (`custody rebuilder`),
// which claim jobs, rebuild hermetically, post their VSA to the attestation store and complete the
// job. Each job wants `wanted` rebuilds by distinct rebuilders (the authenticated actor is the
// rebuilder's identity, so one token cannot count twice). Queue: store/rebuild-queue.ts.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../core/index.ts';
import { PostgresRebuildQueue, SqliteRebuildQueue, type RebuildQueue } from '../../store/index.ts';
import { requestNamespace, type AppContext } from '../app.ts';
import { ApiError } from '../errors.ts';
import { errorResponses, namespaceSchema } from '../schemas.ts';

const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';
/** How long a claim holds before another rebuilder may take the job over. */
export const REBUILD_LEASE_MS = 30 * 60 * 1000;

const idSchema = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const claimSchema = {
  type: 'object',
  required: ['worker', 'state', 'leaseUntil'],
  properties: { worker: { type: 'string' }, state: { type: 'string' }, leaseUntil: { type: 'string' }, result: { type: 'string' }, vsaId: { type: 'string' }, finishedAt: { type: 'string' } },
} as const;
const jobSchema = {
  type: 'object',
  required: ['id', 'namespace', 'provenanceId', 'wanted', 'state', 'createdAt', 'claims'],
  properties: {
    id: { type: 'integer' },
    namespace: { type: 'string' },
    provenanceId: { type: 'string' },
    git: { type: 'string' },
    commit: { type: 'string' },
    wanted: { type: 'integer' },
    state: { type: 'string', enum: ['open', 'done'] },
    createdAt: { type: 'string' },
    claims: { type: 'array', items: claimSchema },
  },
} as const;

function openQueue(ctx: AppContext): RebuildQueue {
  const store = ctx.config.store;
  return store.driver === 'postgres' ? new PostgresRebuildQueue(store.url) : new SqliteRebuildQueue(join(ctx.config.dataDir, 'custody.db'));
}

export function rebuildPlugin(app: FastifyInstance, { ctx, queue: given }: { ctx: AppContext; queue?: RebuildQueue }): Promise<void> {
  const { store } = ctx;
  const queue = given ?? openQueue(ctx);
  if (given === undefined) app.addHook('onClose', async () => queue.close());

  app.post<{ Querystring: { namespace: string }; Body: { provenanceId: string; git?: string; commit?: string; wanted?: number } }>(
    '/v1/rebuilds',
    {
      config: { permission: 'attestations.write', namespaced: true },
      schema: {
        summary: 'Queue a rebuild of a stored SLSA provenance',
        description: 'The provenance (by store id, in the namespace) is rebuilt by `wanted` distinct rebuilders, each posting a VSA.',
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
        body: {
          type: 'object',
          required: ['provenanceId'],
          additionalProperties: false,
          properties: {
            provenanceId: idSchema,
            git: { type: 'string', minLength: 1, maxLength: 2048 },
            commit: { type: 'string', pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' },
            wanted: { type: 'integer', minimum: 1, maximum: 16, default: 1 },
          },
        },
        response: { 201: jobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace } = request.query;
      const found = await store.getAttestation(namespace, request.body.provenanceId);
      if (found === undefined) throw new ApiError(404, 'NOT_FOUND', `no attestation ${request.body.provenanceId} in namespace '${namespace}'`);
      if (found.predicateType !== SLSA_PROVENANCE_V1) throw new InputError('PREDICATE_INVALID', `attestation ${found.id} is ${found.predicateType}, not SLSA provenance v1`);
      const job = await queue.enqueue(
        {
          namespace,
          provenanceId: found.id,
          wanted: request.body.wanted ?? 1,
          ...(request.body.git === undefined ? {} : { git: request.body.git }),
          ...(request.body.commit === undefined ? {} : { commit: request.body.commit }),
        },
        ctx.now(),
      );
      await store.write([{ audit: ctx.draft(request, { action: 'rebuilds.enqueue', namespace, target: String(job.id), outcome: 'allowed', status: 201, detail: { provenanceId: found.id, wanted: job.wanted } }) }]);
      return reply.code(201).send(job);
    },
  );

  // Claiming spans namespaces: it needs a rebuilder token scoped to all of them ('*').
  app.post(
    '/v1/rebuilds/claim',
    {
      config: { permission: 'attestations.write' },
      schema: {
        summary: 'Claim the next rebuild job (rebuilders)',
        description: 'Returns the oldest open job this rebuilder has not taken, with the provenance bytes, under a lease; 204 when there is none.',
        response: { 200: { type: 'object', required: ['job', 'provenance', 'leaseMs'], properties: { job: jobSchema, provenance: { type: 'string' }, leaseMs: { type: 'integer' } } }, 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const worker = request.principal!.actor;
      const job = await queue.claim(worker, ctx.now(), REBUILD_LEASE_MS);
      if (job === undefined) return reply.code(204).send();
      const provenance = await store.getAttestation(job.namespace, job.provenanceId);
      if (provenance === undefined) throw new ApiError(404, 'NOT_FOUND', `the provenance of job ${job.id} is gone`);
      await store.write([{ audit: ctx.draft(request, { action: 'rebuilds.claim', namespace: job.namespace, target: String(job.id), outcome: 'allowed', status: 200 }) }]);
      return reply.code(200).send({ job, provenance: Buffer.from(provenance.bytes).toString('utf8'), leaseMs: REBUILD_LEASE_MS });
    },
  );

  app.post<{ Params: { id: number }; Body: { vsaId: string; result: 'PASSED' | 'FAILED' } }>(
    '/v1/rebuilds/:id/complete',
    {
      config: { permission: 'attestations.write' },
      schema: {
        summary: 'Complete a claimed rebuild job with the VSA the rebuilder stored',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        body: { type: 'object', required: ['vsaId', 'result'], additionalProperties: false, properties: { vsaId: idSchema, result: { type: 'string', enum: ['PASSED', 'FAILED'] } } },
        response: { 200: jobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const worker = request.principal!.actor;
      const job = await queue.get(request.params.id);
      if (job === undefined) throw new ApiError(404, 'NOT_FOUND', `no rebuild job ${request.params.id}`);
      const vsa = await store.getAttestation(job.namespace, request.body.vsaId);
      if (vsa === undefined || vsa.predicateType !== SLSA_VSA_V1) throw new ApiError(404, 'NOT_FOUND', `no VSA ${request.body.vsaId} in namespace '${job.namespace}': push it first`);
      if (!(await queue.complete(job.id, worker, { result: request.body.result, vsaId: vsa.id }, ctx.now()))) {
        throw new ApiError(404, 'NOT_FOUND', `rebuild job ${job.id} has no running claim by ${worker}`);
      }
      await store.write([{ audit: ctx.draft(request, { action: 'rebuilds.complete', namespace: job.namespace, target: String(job.id), outcome: 'allowed', status: 200, detail: { vsaId: vsa.id, result: request.body.result } }) }]);
      return reply.code(200).send(await queue.get(job.id));
    },
  );

  app.get<{ Params: { id: number }; Querystring: { namespace: string } }>(
    '/v1/rebuilds/:id',
    {
      config: { permission: 'attestations.read', namespaced: true },
      schema: {
        summary: 'A rebuild job and its claims',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
        response: { 200: jobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await queue.get(request.params.id);
      if (job === undefined || job.namespace !== requestNamespace(request)) throw new ApiError(404, 'NOT_FOUND', `no rebuild job ${request.params.id} in namespace '${requestNamespace(request)}'`);
      return reply.code(200).send(job);
    },
  );
  return Promise.resolve();
}
