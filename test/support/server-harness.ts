// An in-process server for tests: a fresh SQLite store in a temp directory, the real app (routes,
// auth, audit), tokens for every role, a controllable clock and captured JSON logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { generateKeyPair, type PrivateKey } from '../../src/core/index.ts';
import { openSqliteStore, withGroupCommit, type Role, type Store } from '../../src/store/index.ts';
import {
  ROLES,
  buildApp,
  createApiToken,
  createAuthenticator,
  createMetrics,
  createOidcVerifier,
  defaultConfig,
  type ServerConfig,
} from '../../src/server/index.ts';

export interface Harness {
  app: FastifyInstance;
  store: Store;
  config: ServerConfig;
  /** The key the server trusts. */
  key: PrivateKey;
  /** A token per role, scoped to namespaces default, a and q (admin: ['*']). */
  tokens: Record<Role, string>;
  token(role: Role, namespaces: string[], expires?: string): Promise<string>;
  /** Moves the server's clock. */
  clock: { now: Date };
  logs: string[];
  inject(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  configure?: (config: ServerConfig) => void;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'custody-server-'));
  const config = defaultConfig(dir);
  options.configure?.(config);
  const key = generateKeyPair('ed25519');
  const store = withGroupCommit(openSqliteStore({ path: join(dir, 'custody.db') }));
  await store.migrate();
  const clock = { now: new Date() };
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const app = await buildApp({
    store,
    config,
    trustedKeys: [key.publicKey],
    authenticator: createAuthenticator(store, config.auth.oidc.length > 0 ? createOidcVerifier(config.auth.oidc) : undefined, () => clock.now),
    metrics: createMetrics({ processMetrics: false }),
    logger: { level: 'info', stream },
    now: () => clock.now,
  });
  await app.ready();
  const token = async (role: Role, namespaces: string[], expires?: string): Promise<string> =>
    (await createApiToken(store, { role, namespaces, ...(expires === undefined ? {} : { expires }) }, 'test')).token;
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) tokens[role] = await token(role, role === 'admin' ? ['*'] : ['default', 'a', 'q']);
  return {
    app,
    store,
    config,
    key,
    tokens,
    token,
    clock,
    logs,
    inject: ({ token: t, ...rest }) =>
      app.inject({ ...rest, headers: { ...(rest.headers ?? {}), ...(t === undefined ? {} : { authorization: `Bearer ${t}` }) } }),
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
