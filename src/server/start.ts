// The composition root of `custody serve`: reads the configuration, opens the configured store
// (SQLite in the data directory, or PostgreSQL), loads trusted keys, builds the app, listens,
// and shuts down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close
// the store).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InputError, parseJson, publicKeyFromPem, publicKeyFromSecuresystemslib, type PublicKey } from '../core/index.ts';
import { openPostgresStore, openSqliteStore, withGroupCommit, type Store } from '../store/index.ts';
import { buildApp } from './app.ts';
import { createAuthenticator } from './auth.ts';
import { defaultConfig, loadConfig, parseListen, splitListen, type ServerConfig } from './config.ts';
import { createMetrics } from './metrics.ts';
import { enforceClientCertificates, httpsOptions } from './mtls.ts';
import { createOidcVerifier } from './oidc.ts';

export const SQLITE_FILE = 'custody.db';

export interface ServeOptions {
  /** Path of the YAML config; none = the embedded defaults. */
  config?: string;
  /** Overrides the config's data directory. */
  data?: string;
  /** Overrides the config's HOST:PORT (port 0 = any free port). */
  listen?: string;
  /** Where pino writes JSON log lines (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** Install SIGTERM/SIGINT handlers that close the server (the CLI does; tests don't). */
  handleSignals?: boolean;
}

export function resolveServeConfig(options: Pick<ServeOptions, 'config' | 'data' | 'listen'>): ServerConfig {
  const config = options.config === undefined ? defaultConfig(resolve('.custody/server')) : loadConfig(options.config);
  if (options.data !== undefined) config.dataDir = resolve(options.data);
  if (options.listen !== undefined) config.listen = parseListen(options.listen);
  return config;
}

/** Opens the configured store, with group commit, and applies pending migrations (writerThread: sqlite-writer.ts). */
export async function openStore(config: ServerConfig, onPoolError?: (e: Error) => void, options: { writerThread?: boolean } = {}): Promise<Store> {
  const raw =
    config.store.driver === 'sqlite'
      ? openSqliteStore({ path: join(config.dataDir, SQLITE_FILE), writerThread: options.writerThread ?? false })
      : openPostgresStore({ connectionString: config.store.url, maxConnections: config.store.maxConnections, ...(onPoolError === undefined ? {} : { onPoolError }) });
  // PostgreSQL: two transactions in flight (group-commit.ts). SQLite: several batches handed to the
  // writer thread, which commits whatever has arrived together (sqlite-writer-worker.ts).
  const store = withGroupCommit(raw, { maxInFlight: config.store.driver === 'postgres' ? 2 : 4 });
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/** Public keys from PEM (SPKI) or securesystemslib JSON files. */
export function loadTrustedKeys(paths: readonly string[]): PublicKey[] {
  return paths.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new InputError('FILE_UNREADABLE', `cannot read trusted key ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
    return text.trimStart().startsWith('{') ? publicKeyFromSecuresystemslib(parseJson(text, p)) : publicKeyFromPem(text);
  });
}

/**
 * Connections refused for their client certificate (clientCerts: require) never reach a route, so
 * the error handler cannot audit them: they are audited here, as denied requests are (issue 5).
 */
function auditTlsRefusals(app: FastifyInstance, store: Store): void {
  enforceClientCertificates(app.server, (refused) => {
    store
      .write([
        {
          audit: {
            at: new Date().toISOString(),
            actor: 'anonymous',
            action: 'tls.handshake',
            namespace: null,
            target: null,
            outcome: 'denied',
            status: 0,
            detail: { code: refused.code, ip: refused.ip, presented: refused.presented },
          },
        },
      ])
      .catch((e: unknown) => app.log.error({ err: e }, 'could not audit a refused TLS connection'));
  });
}

export interface RunningServer {
  /** http(s)://HOST:PORT the server listens on. */
  url: string;
  app: FastifyInstance;
  store: Store;
  config: ServerConfig;
  /** Graceful stop: no new connections, in-flight requests finish, then the store closes. */
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const config = resolveServeConfig(options);
  const trustedKeys = loadTrustedKeys(config.trustedKeys);
  // The server writes SQLite from a writer thread: fsync waits do not stop the event loop.
  const store = await openStore(config, undefined, { writerThread: true });
  let app: FastifyInstance;
  try {
    app = await buildApp({
      store,
      config,
      trustedKeys,
      authenticator: createAuthenticator(store, config.auth.oidc.length > 0 ? createOidcVerifier(config.auth.oidc) : undefined, undefined, {
        certGrants: config.tls?.grants ?? [],
        requireCertificate: config.tls?.clientCerts === 'require',
      }),
      ...(config.tls === undefined ? {} : { https: httpsOptions(config.tls) }),
      metrics: createMetrics(),
      logger: { level: config.log.level, ...(options.logStream === undefined ? {} : { stream: options.logStream }) },
    });
    if (config.tls?.clientCerts === 'require') auditTlsRefusals(app, store);
    const { host, port } = splitListen(config.listen);
    await app.listen({ host, port });
  } catch (e) {
    await store.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const { host } = splitListen(config.listen);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await app.close();
      } finally {
        await store.close();
      }
    })();
    return closing;
  };
  if (options.handleSignals === true) {
    const onSignal = (signal: NodeJS.Signals): void => {
      app.log.info({ signal }, 'shutting down');
      close().then(
        () => process.exit(0),
        (e: unknown) => {
          app.log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { url: `${config.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`, app, store, config, close };
}
