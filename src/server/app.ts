// Builds the fastify app from its parts (no I/O of its own: start.ts opens the store and listens).
// Cross-cutting concerns live here once: body parsing that keeps the exact bytes, authentication
// and authorization on every route (deny by default), denial auditing, rate limits, metrics, and
// the single error → response mapping.
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { InputError, type PublicKey } from '../core/index.ts';
import type { AuditDraft, Store } from '../store/index.ts';
import type { Authenticator } from './auth.ts';
import { DEFAULT_NAMESPACE, authorize, type Permission, type Principal } from './authz.ts';
import type { ServerConfig } from './config.ts';
import type { KeylessTrustInput } from './ca/trust.ts';
import { ApiError, mapError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';
import { tlsPeer } from './mtls.ts';
import { attestationsPlugin } from './plugins/attestations.ts';
import { auditPlugin } from './plugins/audit.ts';
import { docsPlugin } from './plugins/docs.ts';
import { healthPlugin } from './plugins/health.ts';
import { tokensPlugin } from './plugins/tokens.ts';
import { rebuildPlugin } from './plugins/rebuild.ts';
import { logPlugin } from './plugins/log.ts';
import { monitorPlugin } from './plugins/monitor.ts';
import { signPlugin } from './plugins/sign.ts';
import { caPlugin } from './ca/plugin.ts';
import { tufServicePlugin } from './plugins/tuf.ts';
import { gateServicePlugin } from './plugins/gate.ts';
import { queriesPlugin } from './plugins/queries.ts';
import { webPlugin } from './plugins/web.ts';
import { openTransparencyLog, type TransparencyLog } from './log-service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The exact body bytes of a JSON upload. */
    rawBody: Buffer | null;
    /** The exact bytes of each line of an NDJSON upload. */
    rawItems: Buffer[] | null;
  }
  interface FastifyContextConfig {
    /** What the route needs; 'public' routes need no credentials. Required on every route. */
    permission?: Permission | 'public';
    /** Whether the route acts inside the `namespace` query parameter's namespace. */
    namespaced?: boolean;
  }
}

export interface AppContext {
  store: Store;
  config: ServerConfig;
  trustedKeys: readonly PublicKey[];
  authenticator: Authenticator;
  metrics: ServerMetrics;
  now: () => Date;
  /** The transparency log (log-service.ts); undefined when tlog.enabled is false. */
  transparencyLog: TransparencyLog | undefined;
  /** What the keyless trust documents are made of: set by the ca plugin, published as TUF targets by the tuf plugin. */
  keylessTrust?: KeylessTrustInput;
  /** An audit draft for this request (fills time, actor, route). */
  draft(request: FastifyRequest, fields: Pick<AuditDraft, 'action' | 'namespace' | 'target' | 'outcome' | 'status'> & { detail?: Record<string, unknown> }): AuditDraft;
}

export interface BuildAppOptions {
  store: Store;
  config: ServerConfig;
  trustedKeys: readonly PublicKey[];
  authenticator: Authenticator;
  metrics: ServerMetrics;
  /** pino JSON logs: level and where to write them (default stdout), or false for none. */
  logger: { level: string; stream?: NodeJS.WritableStream } | false;
  now?: () => Date;
  /** A transparency log to use instead of opening the configured one (then the caller closes it). */
  transparencyLog?: TransparencyLog;
  /** Serve HTTPS with these options (mtls.ts httpsOptions), else plain HTTP. */
  https?: HttpsServerOptions;
}

export const NDJSON = 'application/x-ndjson';

/** The namespace a request acts in: its `namespace` query parameter, else the default one. */
export function requestNamespace(request: FastifyRequest): string {
  const q = request.query as Record<string, unknown> | undefined;
  const ns = q?.['namespace'];
  if (ns === undefined) return DEFAULT_NAMESPACE;
  // Not a single string (repeated parameter): no token scoped to namespaces matches it; the
  // schema refuses it afterwards for '*' tokens.
  return typeof ns === 'string' ? ns : '\u0000invalid';
}

function path(request: FastifyRequest): string {
  return request.url.split('?')[0]!.toWellFormed().slice(0, 512);
}

function parseJsonBody(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new InputError('JSON_INVALID', `${what} is not valid JSON`);
  }
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { store, config, metrics } = options;
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger.level,
            // The default serializers log no headers; this guards against a future change doing so.
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
            ...(options.logger.stream === undefined ? {} : { stream: options.logger.stream }),
          },
    bodyLimit: config.limits.bodyBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    connectionTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    // The https server is an http.Server to fastify's handlers; the types only know one of them.
    ...(options.https === undefined ? {} : ({ https: options.https } as object)),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  });

  const ownLog = options.transparencyLog === undefined && config.tlog.enabled;
  const transparencyLog = options.transparencyLog ?? (ownLog ? openTransparencyLog(config, (e) => app.log.error({ err: e }, 'transparency log batch failed')) : undefined);
  if (ownLog) app.addHook('onClose', async () => transparencyLog?.close());
  const ctx: AppContext = {
    store,
    config,
    transparencyLog,
    trustedKeys: options.trustedKeys,
    authenticator: options.authenticator,
    metrics,
    now,
    draft: (request, fields) => ({
      at: now().toISOString(),
      actor: request.principal?.actor ?? 'anonymous',
      detail: { method: request.method, path: path(request), ip: request.ip, ...fields.detail },
      action: fields.action,
      namespace: fields.namespace,
      target: fields.target,
      outcome: fields.outcome,
      status: fields.status,
    }),
  };

  app.decorateRequest('principal', null);
  app.decorateRequest('rawBody', null);
  app.decorateRequest('rawItems', null);

  // Uploads keep their exact bytes: the content address is the sha256 of what the client sent.
  // Only JSON and NDJSON bodies exist in this API; anything else is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    try {
      done(null, parseJsonBody(bytes, 'request body'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Batch upload: one document per line (NDJSON); each line is stored exactly as sent.
  app.addContentTypeParser(NDJSON, { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const lines = (body as Buffer)
        .toString('latin1')
        .split('\n')
        .map((line) => Buffer.from(line.endsWith('\r') ? line.slice(0, -1) : line, 'latin1'))
        .filter((line) => line.length > 0);
      request.rawItems = lines;
      done(null, lines.map((line, i) => parseJsonBody(line, `line ${i + 1} of the batch`)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  // Every route must say what it needs: a route without a permission is a bug, caught at start.
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (permission === undefined && !route.url.startsWith('/docs')) {
      throw new Error(`route ${route.method.toString()} ${route.url} declares no permission`);
    }
  });

  app.setErrorHandler(async (error, request, reply) => {
    const mapped = mapError(error);
    if (mapped.serverFault) request.log.error({ err: error }, 'request failed');
    // Auth refusals are audited: every denied request leaves an entry (issue 5).
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      metrics.denials.inc({ code: error.code });
      const permission = request.routeOptions.config.permission;
      const namespaced = request.routeOptions.config.namespaced === true;
      try {
        await store.write([
          {
            audit: {
              ...ctx.draft(request, {
                action: typeof permission === 'string' ? permission : 'unknown',
                namespace: namespaced ? requestNamespace(request).toWellFormed() : null,
                target: path(request),
                outcome: 'denied',
                status: error.status,
                detail: { code: error.code },
              }),
              actor: request.principal?.actor ?? error.auditActor ?? 'anonymous',
            },
          },
        ]);
      } catch (e) {
        request.log.error({ err: e }, 'could not audit a denied request');
      }
    }
    return reply.code(mapped.status).type('application/json').send(mapped.body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${path(request)}` });
  });

  // Authentication and authorization before the body is read.
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (permission === 'public') return;
    if (permission === undefined) {
      // Only the not-found handler has no permission (onRoute refuses others): let it answer 404.
      if (request.routeOptions.url === undefined) return;
      throw new ApiError(403, 'FORBIDDEN', 'route is not open to anyone');
    }
    request.principal = await options.authenticator.authenticate(request.headers.authorization, tlsPeer(request.raw.socket));
    const namespace = request.routeOptions.config.namespaced === true ? requestNamespace(request) : null;
    const decision = authorize(request.principal, permission, namespace);
    if (!decision.allowed) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        decision.reason === 'role'
          ? `role ${request.principal.role} may not ${permission}`
          : namespace === null
            ? `${permission} needs a token for all namespaces`
            : `not allowed in namespace '${namespace}'`,
      );
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preHandler',
    max: config.limits.requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.principal?.actor ?? request.ip,
    allowList: (request) => request.routeOptions.config.permission === 'public',
    errorResponseBuilder: (_request, context) => new ApiError(429, 'RATE_LIMITED', `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`),
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'custody server', version: '1', description: 'Attestation store, tokens and audit log. Errors are {code, message}.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  await app.register(healthPlugin, { ctx });
  await app.register(attestationsPlugin, { ctx });
  await app.register(tokensPlugin, { ctx });
  await app.register(auditPlugin, { ctx });
  await app.register(logPlugin, { ctx });
  await app.register(monitorPlugin, { ctx });
  await app.register(signPlugin, { ctx });
  await app.register(caPlugin, { ctx });
  await app.register(rebuildPlugin, { ctx });
  await app.register(tufServicePlugin, { ctx }); // when the config has tuf:
  await app.register(gateServicePlugin, { ctx }); // when the config has gate:
  await app.register(queriesPlugin, { ctx });
  await app.register(webPlugin, { ctx });
  await app.register(docsPlugin, { ctx });
  return app;
}
