// Audit service: read the hash-chained log and verify it, for admins.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.ts';
import { verifyStoreAudit } from '../audit.ts';
import { auditEntrySchema, errorResponses } from '../schemas.ts';

export function auditPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const { store } = ctx;
  const head = { type: 'object', properties: { seq: { type: 'integer' }, hash: { type: 'string' } } } as const;

  app.get<{ Querystring: { after: number; limit: number } }>(
    '/v1/audit',
    {
      config: { permission: 'audit.read' },
      schema: {
        summary: 'Read audit entries after a sequence number, oldest first',
        querystring: {
          type: 'object',
          properties: { after: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', required: ['items', 'head'], properties: { items: { type: 'array', items: auditEntrySchema }, head } }, ...errorResponses },
      },
    },
    async (request) => {
      const [items, h] = await Promise.all([store.readAudit(request.query.after, request.query.limit), store.auditHead()]);
      return { items, head: h };
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { permission: 'audit.read' },
      schema: {
        summary: 'Verify the whole audit chain',
        response: {
          200: {
            type: 'object',
            required: ['ok', 'entries', 'problems'],
            properties: {
              ok: { type: 'boolean' },
              entries: { type: 'integer' },
              head,
              problems: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, seq: { type: 'integer' }, message: { type: 'string' } } } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => verifyStoreAudit(store),
  );
  return Promise.resolve();
}
