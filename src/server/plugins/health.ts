// Liveness, readiness and Prometheus metrics: public, unauthenticated, no secrets.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.ts';
import { errorSchema } from '../schemas.ts';

const status = { type: 'object', properties: { status: { type: 'string' } } } as const;

export function healthPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  app.get('/healthz', { config: { permission: 'public' }, schema: { summary: 'Liveness: the process serves requests', response: { 200: status } } }, () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { config: { permission: 'public' }, schema: { summary: 'Readiness: the store answers', response: { 200: status, 503: errorSchema } } },
    async (request, reply) => {
      try {
        await ctx.store.ping();
        return { status: 'ready' };
      } catch (e) {
        request.log.warn({ err: e }, 'store not ready');
        return reply.code(503).send({ code: 'UNAVAILABLE', message: 'store unavailable' });
      }
    },
  );

  app.get('/metrics', { config: { permission: 'public' }, schema: { summary: 'Prometheus metrics', hide: false } }, async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
  return Promise.resolve();
}
