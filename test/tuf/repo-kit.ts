// Test kit for TUF: a loopback HTTP server over a repository directory (with per-path overrides
// for attacks), keys made once per process, and a repository built through the real API.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { digestBytes, generateKeyPair, type PrivateKey } from '../../src/core/index.ts';
import { TufRepository, type TargetInput } from '../../src/tuf/index.ts';

const keyCache = new Map<string, PrivateKey>();
export function key(name: string): PrivateKey {
  let k = keyCache.get(name);
  if (k === undefined) {
    k = generateKeyPair(name.startsWith('p256') ? 'ecdsa-p256' : 'ed25519');
    keyCache.set(name, k);
  }
  return k;
}

export interface RepoServer {
  url: string;
  /** Requests seen (paths), for asserting what the client fetched. */
  requests: string[];
  /** Replace the response for a path (an attack). */
  override: Map<string, (res: ServerResponse) => void>;
  close(): Promise<void>;
}

export async function serveDir(dir: string): Promise<RepoServer> {
  const requests: string[] = [];
  const override = new Map<string, (res: ServerResponse) => void>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const o = override.get(path);
    if (o !== undefined) {
      o(res);
      return;
    }
    const file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    override,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function targetOf(path: string, text: string, custom?: Record<string, unknown>): TargetInput {
  const content = Buffer.from(text);
  return { path, length: content.length, hashes: { sha256: digestBytes(content) }, content, ...(custom === undefined ? {} : { custom }) };
}

/** root (2 of root1, root2), targets (targets1), online key for snapshot/timestamp; published. */
export async function makeRepo(dir: string, now?: () => Date): Promise<TufRepository> {
  const online = key('online').signer();
  const repo = TufRepository.init(
    dir,
    {
      rootKeys: [key('root1').publicKey, key('root2').publicKey],
      rootThreshold: 2,
      targetsKeys: [key('targets1').publicKey],
      targetsThreshold: 1,
      onlineKeys: [key('online').publicKey],
      ...(now === undefined ? {} : { now: now() }),
    },
    [key('root1').signer(), key('root2').signer(), key('targets1').signer(), online],
  );
  await repo.save();
  await repo.publish();
  return now === undefined ? TufRepository.open(dir, [online]) : TufRepository.open(dir, [online], now);
}
