// The dashboard (web/, docs/dashboard.md): the built single-page app from web/dist, served at
// /ui/ with a fallback to index.html for deep links (/ui/artifacts/sha256:…); `/` redirects
// there. Static files only: the app reads everything through the public /v1 API with the
// user's token, so these routes are public and hold no data. Nothing is fetched from elsewhere
// (the Content-Security-Policy says so to the browser).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../app.ts';

/** web/dist of this package (src/server/plugins → ../../../web/dist). */
export const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export const WEB_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>custody dashboard</title></head>
<body><h1>custody dashboard</h1><p>The dashboard is not built in this installation. Build it with <code>npm run build:web</code>
and restart <code>custody serve</code>. The API is documented at <a href="/docs">/docs</a>.</p></body></html>`;

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', WEB_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
}

export function webPlugin(app: FastifyInstance, options: { ctx: AppContext; dist?: string }): Promise<void> {
  const root = resolve(options.dist ?? WEB_DIST);
  const indexFile = join(root, 'index.html');

  function sendIndex(reply: FastifyReply): FastifyReply {
    // Read per request (small): a rebuilt dashboard shows without a restart.
    const html = existsSync(indexFile) ? readFileSync(indexFile) : NOT_BUILT;
    return secure(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  }

  app.get('/', { config: { permission: 'public' }, schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/', 302));
  app.get('/ui', { config: { permission: 'public' }, schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/', 302));

  app.get<{ Params: { '*': string } }>('/ui/*', { config: { permission: 'public' }, schema: { summary: 'The dashboard (single-page app; deep links fall back to it)', hide: true } }, (request, reply) => {
    const rel = request.params['*'];
    if (rel.startsWith('assets/')) {
      const file = resolve(root, rel);
      const type = TYPES[extname(file)];
      if (!file.startsWith(root + sep) || type === undefined || !existsSync(file) || !statSync(file).isFile()) {
        return reply.code(404).send({ code: 'NOT_FOUND', message: `no dashboard asset ${rel.slice(0, 200)}` });
      }
      // Vite names assets by content hash: they never change.
      return secure(reply).header('cache-control', 'public, max-age=31536000, immutable').type(type).send(readFileSync(file));
    }
    return sendIndex(reply);
  });
  return Promise.resolve();
}
