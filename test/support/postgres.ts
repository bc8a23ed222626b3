// An ephemeral PostgreSQL cluster for tests and benchmarks, from the distribution's binaries
// (Debian: /usr/lib/postgresql/<v>/bin): initdb in a temp directory, started on a free loopback
// port, stopped and deleted afterwards. As root, the server runs as the `postgres` user
// (initdb refuses root). CUSTODY_TEST_POSTGRES_URL points tests at an existing server instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { haveComponents, which } from './components.ts';

export interface PostgresCluster {
  /** URL of the maintenance database `postgres`. */
  readonly url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Directory holding initdb and pg_ctl: CUSTODY_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env['CUSTODY_PG_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function postgresCommands(): string[] {
  const bin = postgresBinDir();
  return bin === undefined ? ['initdb', 'pg_ctl'] : [join(bin, 'initdb'), join(bin, 'pg_ctl')];
}

/** True when a cluster can be started or an external one is configured (for hooks: no skipping). */
export function postgresAvailable(): boolean {
  return process.env['CUSTODY_TEST_POSTGRES_URL'] !== undefined || postgresCommands().every((c) => which(c) !== undefined);
}

/** True when PostgreSQL is usable; otherwise skips the test (locally) or fails it (CI). */
export function havePostgres(t: TestContext): boolean {
  if (process.env['CUSTODY_TEST_POSTGRES_URL'] !== undefined) return true;
  return haveComponents(t, ...postgresCommands());
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let counter = 0;

function databaseCreator(adminUrl: string): (name?: string) => Promise<string> {
  return async (name) => {
    const db = name ?? `custody_test_${process.pid}_${Date.now()}_${counter++}`;
    if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`bad database name ${db}`);
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${db}`);
    } finally {
      await client.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${db}`;
    return url.toString();
  };
}

/**
 * Starts a throwaway cluster (or uses CUSTODY_TEST_POSTGRES_URL). Call stop() when done.
 * `settings`: extra server settings (`-c name=value`), e.g. shared_buffers for a benchmark.
 */
export async function startPostgres(options: { settings?: Record<string, string> } = {}): Promise<PostgresCluster> {
  const external = process.env['CUSTODY_TEST_POSTGRES_URL'];
  if (external !== undefined) return { url: external, createDatabase: databaseCreator(external), stop: () => Promise.resolve() };

  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL binaries not found (set CUSTODY_PG_BIN)');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'custody-pg-'));
  const data = join(dir, 'data');
  const run = (command: string, args: string[]): void => {
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, command), ...args] : args;
    const result = spawnSync(asRoot ? 'runuser' : join(bin, command), argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr}${result.stdout}`);
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const user = asRoot ? 'root' : (process.env['USER'] ?? 'postgres');
  // --no-sync only skips initdb's own fsync of the template files; the server itself runs with
  // its default durability settings.
  run('initdb', ['-D', data, '-A', 'trust', '-U', user, '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const settings = Object.entries(options.settings ?? {}).map(([name, value]) => ` -c ${name}=${value}`).join('');
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200${settings}`;
  run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start']);

  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // A test process that dies early must not leave a server behind.
  process.once('exit', stopSync);
  const url = `postgres://${user}@127.0.0.1:${port}/postgres`;
  return {
    url,
    createDatabase: databaseCreator(url),
    stop: () => {
      process.removeListener('exit', stopSync);
      stopSync();
      return Promise.resolve();
    },
  };
}
