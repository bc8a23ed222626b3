// API documentation, offline: the OpenAPI document (generated from the route schemas) as JSON,
// and a plain HTML page listing the operations. No scripts, nothing fetched from elsewhere.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Operation {
  summary?: string;
  description?: string;
}

export function docsPlugin(app: FastifyInstance, _options: { ctx: AppContext }): Promise<void> {
  app.get('/docs/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, () => app.swagger());

  app.get('/docs', { config: { permission: 'public' }, schema: { hide: true } }, (_request, reply) => {
    const doc = app.swagger() as { paths?: Record<string, Record<string, Operation>> };
    const rows = Object.entries(doc.paths ?? {})
      .flatMap(([p, ops]) =>
        Object.entries(ops).map(
          ([method, op]) =>
            `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(p)}</code></td><td>${escapeHtml(op.summary ?? '')}<br><small>${escapeHtml(op.description ?? '')}</small></td></tr>`,
        ),
      )
      .join('\n');
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>custody server API</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;vertical-align:top;border-bottom:1px solid #ddd}</style></head>
<body><h1>custody server API</h1><p>Machine-readable: <a href="/docs/openapi.json">OpenAPI 3.1 document</a>. Send <code>Authorization: Bearer TOKEN</code>.
Errors are JSON <code>{"code", "message"}</code>.</p><table>${rows}</table></body></html>`;
    return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(html);
  });
  return Promise.resolve();
}
