// custody serve: the attestation store server (fastify) until SIGTERM/SIGINT.
import { Command } from 'commander';
import { startServer } from '../server/index.ts';
import { common, type CommonOptions } from './io.ts';

interface ServeOptions extends CommonOptions {
  config?: string;
  data?: string;
  listen?: string;
}

async function serve(options: ServeOptions): Promise<void> {
  const server = await startServer({
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.listen === undefined ? {} : { listen: options.listen }),
    handleSignals: true,
  });
  // Logs (pino JSON) go to stdout; this one human line goes to stderr.
  process.stderr.write(`custody: serving on ${server.url} (${server.config.store.driver} store; API docs at ${server.url}/docs)\n`);
}

export function serveCommand(): Command {
  return common(
    new Command('serve')
      .description('run the server: attestation store, API tokens, audit log (OpenAPI at /docs)')
      .option('--config <file>', 'server config (YAML; custody init writes one)')
      .option('--data <dir>', 'data directory (overrides the config; default .custody/server)')
      .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8420)')
      .action((o: ServeOptions) => serve(o)),
    'custody serve --config .custody/server.yaml',
    'custody serve --data /var/lib/custody --listen 127.0.0.1:8420',
  );
}
