// Token service: admins create (the token is in the response, once), list and revoke API tokens.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.ts';
import { createApiToken, publicRecord } from '../api-tokens.ts';
import { ROLES } from '../authz.ts';
import { ApiError } from '../errors.ts';
import { errorResponses, tokenRecordSchema } from '../schemas.ts';

interface CreateBody {
  role: string;
  namespaces?: string[];
  expires?: string;
  description?: string;
}

export function tokensPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const { store } = ctx;

  app.post<{ Body: CreateBody }>(
    '/v1/tokens',
    {
      config: { permission: 'tokens.manage' },
      schema: {
        summary: 'Create an API token (shown once)',
        body: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { type: 'string', enum: [...ROLES] },
            namespaces: { type: 'array', items: { type: 'string', pattern: '^(\\*|[a-z0-9][a-z0-9._-]{0,62})$' }, maxItems: 100 },
            expires: { type: 'string', maxLength: 64, description: "30d, 12h, 90m, 2w, an ISO 8601 time or 'never' (default 90d)" },
            description: { type: 'string', maxLength: 256 },
          },
          additionalProperties: false,
        },
        response: {
          201: { type: 'object', required: ['token', 'record'], properties: { token: { type: 'string' }, record: tokenRecordSchema } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const created = await createApiToken(
        store,
        { role: b.role, namespaces: b.namespaces ?? [], ...(b.expires === undefined ? {} : { expires: b.expires }), ...(b.description === undefined ? {} : { description: b.description }) },
        request.principal!.actor,
        { status: 201, detail: { ip: request.ip } },
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/tokens',
    {
      config: { permission: 'tokens.manage' },
      schema: {
        summary: 'List API tokens (never their secrets)',
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: tokenRecordSchema } } }, ...errorResponses },
      },
    },
    async () => ({ items: (await store.listTokens()).map(publicRecord) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    {
      config: { permission: 'tokens.manage' },
      schema: {
        summary: 'Revoke an API token',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, revoked: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async (request) => {
      const at = ctx.now().toISOString();
      const draft = ctx.draft(request, { action: 'tokens.revoke', namespace: null, target: request.params.id, outcome: 'allowed', status: 200 });
      const revoked = await store.revokeToken(request.params.id, at, draft);
      // Whatever the outcome, the next request with this token reads it from the store again.
      ctx.authenticator.forget(request.params.id);
      if (!revoked) {
        await store.write([{ audit: { ...draft, outcome: 'failed', status: 404 } }]);
        throw new ApiError(404, 'NOT_FOUND', `no active token ${request.params.id}`);
      }
      return { id: request.params.id, revoked: true };
    },
  );
  return Promise.resolve();
}
