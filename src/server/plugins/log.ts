// Transparency log service: append entries (one raw body, or a JSON batch) and get back their
// Sigstore tlogEntries items; the tiles and checkpoint served read-only at /log/… (C2SP
// tlog-tiles, the same static files any web server could serve); the Sigstore trusted root.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../core/index.ts';
import { CHECKPOINT_PATH, parseTilePath } from '../../tlog/index.ts';
import type { AppContext } from '../app.ts';
import { ApiError } from '../errors.ts';
import { appendAnswer } from '../log-answer.ts';
import { LOG_DIR, type LogEntryResult } from '../log-service.ts';
import { errorResponses, namespaceSchema } from '../schemas.ts';

const OCTETS = 'application/octet-stream';

const resultSchema = {
  type: 'object',
  required: ['index', 'duplicate', 'tlogEntry', 'checkpoint'],
  properties: {
    index: { type: 'integer' },
    duplicate: { type: 'boolean' },
    checkpoint: { type: 'string' },
    tlogEntry: { type: 'object', additionalProperties: true },
  },
} as const;

function view(r: LogEntryResult): Record<string, unknown> {
  return { index: r.index, duplicate: r.duplicate, checkpoint: r.checkpoint, tlogEntry: r.tlogEntry };
}

/** answer=index: where the entries landed, without proofs (a batch: {checkpoint, results: [{index, duplicate}]}). */
const placedItemSchema = {
  type: 'object',
  required: ['index', 'duplicate'],
  properties: { index: { type: 'integer' }, duplicate: { type: 'boolean' } },
} as const;
const placedSchema = {
  type: 'object',
  required: ['index', 'duplicate', 'checkpoint'],
  properties: { ...placedItemSchema.properties, checkpoint: { type: 'string' } },
} as const;

export function logPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const log = ctx.transparencyLog;
  if (log === undefined) return Promise.resolve();
  const dir = join(ctx.config.dataDir, LOG_DIR);

  // Raw entry bytes, kept exactly (this plugin's scope only).
  app.addContentTypeParser(OCTETS, { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  app.post<{ Querystring: { namespace: string; answer?: 'entry' | 'index' }; Body: unknown }>(
    '/v1/log/entries',
    {
      config: { permission: 'log.append', namespaced: true },
      schema: {
        summary: 'Append entries to the transparency log',
        description:
          'Body: one entry as raw bytes (application/octet-stream), or a batch as application/json {"entries": [base64, …]}. ' +
          'Answers once the entries are integrated under a signed checkpoint: index, inclusion proof and checkpoint as a Sigstore bundle v0.3 ' +
          'tlogEntries[] item. Identical entries are deduplicated (duplicate: true, the earlier index). ' +
          'answer=index: the same moment (integrated, durable), but only each entry\'s index and duplicate flag and the one checkpoint ' +
          'that covers them: for bulk loads; proofs come later from GET /v1/log/leaves/{leafHash} or the tiles.',
        querystring: {
          type: 'object',
          properties: { namespace: namespaceSchema, answer: { type: 'string', enum: ['entry', 'index'], default: 'entry' } },
          additionalProperties: false,
        },
        response: {
          200: {
            anyOf: [
              resultSchema,
              { type: 'object', required: ['results'], properties: { results: { type: 'array', items: resultSchema } } },
              placedSchema,
              {
                type: 'object',
                required: ['checkpoint', 'results'],
                properties: { checkpoint: { type: 'string' }, results: { type: 'array', items: placedItemSchema } },
              },
            ],
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let entries: Uint8Array[];
      const batch = !Buffer.isBuffer(body);
      if (!batch) {
        entries = [new Uint8Array(body)];
      } else {
        const list = (body as { entries?: unknown } | null)?.entries;
        if (!Array.isArray(list) || list.length === 0 || list.length > Math.max(ctx.config.limits.batchItems, ctx.config.tlog.batchMaxEntries)) {
          throw new InputError('INPUT_INVALID', 'a batch is {"entries": [base64, …]} with 1 to batchItems entries');
        }
        entries = list.map((e, i) => {
          if (typeof e !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(e)) throw new InputError('INPUT_INVALID', `entry ${i} is not base64`);
          return new Uint8Array(Buffer.from(e, 'base64'));
        });
      }
      const audit = (indexes: readonly { index: number }[]) =>
        ctx.store.write([
          {
            audit: ctx.draft(request, {
              action: 'log.append',
              namespace: request.query.namespace,
              target: indexes.length === 1 ? `log:${indexes[0]!.index}` : null,
              outcome: 'allowed',
              status: 200,
              detail: { indexes: indexes.slice(0, 100).map((r) => r.index), count: indexes.length },
            }),
          },
        ]);
      // Serialized here, once: a batch answer is megabytes of proofs, and the route's response
      // schema (anyOf) would make the serializer validate every item to pick a branch.
      let answer: Buffer;
      if (request.query.answer === 'index') {
        const { checkpoint, placed } = await log.place(entries);
        await audit(placed);
        const results = placed.map((p) => ({ index: p.index, duplicate: p.duplicate }));
        answer = Buffer.from(JSON.stringify(batch ? { checkpoint, results } : { ...results[0]!, checkpoint }), 'utf8');
      } else {
        const results = await log.append(entries);
        await audit(results);
        answer = appendAnswer(results, batch);
      }
      return reply.code(200).type('application/json; charset=utf-8').send(answer);
    },
  );

  app.get<{ Params: { leafHash: string } }>(
    '/v1/log/leaves/:leafHash',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'Find a logged entry by its RFC 6962 leaf hash (hex): index, inclusion proof, checkpoint',
        params: { type: 'object', properties: { leafHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['leafHash'] },
        response: { 200: resultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const found = await log.find(new Uint8Array(Buffer.from(request.params.leafHash, 'hex')));
      if (found === undefined) throw new ApiError(404, 'NOT_FOUND', 'no entry with this leaf hash in the log');
      return view(found);
    },
  );

  app.get(
    '/v1/trusted-root',
    {
      config: { permission: 'public' },
      schema: { summary: 'Sigstore trusted_root.json naming this transparency log', response: { 200: { type: 'object', additionalProperties: true } } },
    },
    () => Promise.resolve(log.trustedRoot()),
  );

  app.get(
    '/v1/log',
    {
      config: { permission: 'public' },
      schema: {
        summary: "The log's origin and note verifier key",
        response: { 200: { type: 'object', properties: { origin: { type: 'string' }, verifierKey: { type: 'string' } } } },
      },
    },
    () => Promise.resolve({ origin: log.origin, verifierKey: log.verifierKey }),
  );

  // tlog-tiles: the checkpoint and tiles, read-only. Full tiles and bundles never change.
  app.get<{ Params: { '*': string } }>(
    '/log/*',
    { config: { permission: 'public' }, schema: { summary: 'C2SP tlog-tiles resources (checkpoint, tile/…)', hide: true } },
    async (request, reply) => {
      const path = request.params['*'];
      const tile = path === CHECKPOINT_PATH ? undefined : parseTilePath(path);
      if (path !== CHECKPOINT_PATH && tile === undefined) throw new ApiError(404, 'NOT_FOUND', `no log resource ${path.slice(0, 200)}`);
      let data: Buffer;
      try {
        data = await readFile(join(dir, ...path.split('/')));
      } catch {
        throw new ApiError(404, 'NOT_FOUND', `no log resource ${path.slice(0, 200)}`);
      }
      if (path === CHECKPOINT_PATH) return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(data);
      const immutable = !path.includes('.p/');
      return reply
        .type(OCTETS)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=60')
        .send(data);
    },
  );
  return Promise.resolve();
}
