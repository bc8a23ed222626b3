// Keyless signing throughput over HTTP: certificates issued per second (POST /api/v2/signingCert:
// token check, proof of possession, X.509 build, intermediate signature, transparency-log append)
// and whole keyless signatures per second (certificate + signature + log entry + RFC 3161
// time-stamp, the client's flow), next to the raw signing rate of the CA's key backend (encrypted
// file key) and the in-process certificate build rate, all in the same run.
//   node_modules/.bin/node bench/keyless.ts [seconds-per-point]
import { execFile } from 'node:child_process';
import { sign as cryptoSign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name } from '@peculiar/asn1-x509';
import { generateKeyPair } from '../src/core/index.ts';
import { FileKeyBackend } from '../src/keys/index.ts';
import {
  buildApp,
  buildCertificate,
  createApiToken,
  createAuthenticator,
  createMetrics,
  defaultConfig,
  initCa,
  loadCaMaterial,
  mintIdentityToken,
  subjectName,
} from '../src/server/index.ts';
import { openSqliteStore, withGroupCommit } from '../src/store/index.ts';

const SECONDS = Number(process.argv[2] ?? '4');
const LOAD = new URL('./keyless-load.ts', import.meta.url).pathname;
const PASSPHRASE = 'bench-passphrase';

function load(spec: Record<string, unknown>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LOAD, JSON.stringify(spec)], (error, stdout) => (error === null ? resolve(JSON.parse(stdout) as Record<string, number>) : reject(new Error(error.message))));
  });
}

async function rate(seconds: number, fn: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / seconds;
}

const dir = mkdtempSync(join(tmpdir(), 'custody-bench-keyless-'));
const config = defaultConfig(dir);
config.log.level = 'warn';
config.limits.requestsPerMinute = 100_000_000;
config.ca.enabled = true;
config.ca.identity.issuer = 'http://127.0.0.1:8420';
process.env['CUSTODY_CA_KEY_PASSPHRASE'] = PASSPHRASE;
const backend = new FileKeyBackend({ dir: config.ca.backend.kind === 'file' ? config.ca.backend.dir : dir, passphrase: PASSPHRASE });
await initCa({ config: config.ca, backend, organization: 'bench', rootKeyOut: join(dir, 'root.key'), rootPassphrase: 'root passphrase', now: new Date() });

// 1. The raw rate of the CA key backend, and of building + signing a leaf in-process.
const material = await loadCaMaterial(config.ca, backend);
const tbsLike = Buffer.alloc(700, 7);
const rawSign = await rate(SECONDS, () => material.intermediateSigner.sign(tbsLike));
const leafKey = generateKeyPair('ecdsa-p256');
const spki = leafKey.publicKey.keyObject.export({ type: 'spki', format: 'der' });
const issuerName = subjectName(material.intermediate);
const rawCert = await rate(SECONDS, () =>
  buildCertificate({ subject: new Name([]), issuer: issuerName, notBefore: new Date(), notAfter: new Date(Date.now() + 600_000), spkiDer: spki, eku: 'codeSigning', san: { uri: 'https://bench.example/w' } }, material.intermediateSigner),
);

// 2. The server over HTTP: with the transparency log (every certificate and signature appended,
//    fsynced), and without it (tlog.enabled false), to show what the durable append costs.
async function serve(withLog: boolean): Promise<{ url: string; body: string; token: string; close: () => Promise<void> }> {
  const cfg = structuredClone(config);
  cfg.tlog.enabled = withLog;
  cfg.dataDir = join(dir, withLog ? 'with-log' : 'no-log');
  mkdirSync(cfg.dataDir, { recursive: true });
  const store = withGroupCommit(openSqliteStore({ path: join(cfg.dataDir, 'custody.db') }));
  await store.migrate();
  const app = await buildApp({ store, config: cfg, trustedKeys: [], authenticator: createAuthenticator(store, undefined, () => new Date()), metrics: createMetrics({ processMetrics: false }), logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const apiToken = (await createApiToken(store, { role: 'signer', namespaces: ['default'] }, 'bench')).token;
  const minted = await mintIdentityToken(url, apiToken, { step: 'bench', ttlSeconds: 3600 });
  const body = JSON.stringify({
    credentials: { oidcIdentityToken: minted.token },
    publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: leafKey.publicKey.pem }, proofOfPossession: cryptoSign('sha256', Buffer.from(minted.subject), leafKey.keyObject).toString('base64') },
  });
  return {
    url,
    body,
    token: minted.token,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

const rows: string[] = [];
const load1 = loadavg()[0]!.toFixed(1);
rows.push(`raw intermediate-key signatures (file backend, in-process): ${rawSign.toFixed(0)}/s`);
rows.push(`raw leaf build + sign (in-process): ${rawCert.toFixed(0)}/s`);
const logged = await serve(true);
const unlogged = await serve(false);
for (const [label, srv] of [['with log', logged], ['log off', unlogged]] as const) {
  for (const connections of [1, 8]) {
    const c = await load({ mode: 'cert', url: srv.url, token: srv.token, seconds: SECONDS, connections, body: srv.body });
    rows.push(`certificates over HTTP (${label}), ${connections} conn: ${c['rps']!.toFixed(0)}/s (${((c['rps']! / rawSign) * 100).toFixed(1)}% of the raw key rate, ${((c['rps']! / rawCert) * 100).toFixed(0)}% of the in-process build; p50 ${c['p50']} ms, p99 ${c['p99']} ms, non-2xx ${c['non2xx']})`);
  }
}
for (const connections of [1, 8]) {
  const s = await load({ mode: 'sign', url: logged.url, token: logged.token, seconds: SECONDS, connections });
  rows.push(`keyless signatures over HTTP (cert + log + time-stamp), ${connections} concurrent: ${s['rps']!.toFixed(1)}/s (failed ${s['failed']})`);
}
rows.push(`load average at start ${load1}, at end ${loadavg()[0]!.toFixed(1)}`);
process.stdout.write(`${rows.join('\n')}\n`);
await logged.close();
await unlogged.close();
await material.backend.close();
rmSync(dir, { recursive: true, force: true });
