// mTLS end to end: certificates made by openssl, `custody serve` over real TLS on 127.0.0.1, the
// client (library and CLI) with --cacert/--cert/--key. Client certificates map to principals
// through `tls.grants` next to API tokens; an unknown CA, a certificate no grant names and a
// missing certificate are refused, and every refusal is in the audit log.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { isCustodyError } from '../../src/core/index.ts';
import type { AuditEntry } from '../../src/store/index.ts';
import { parse as parseYaml } from 'yaml';
import { CustodyClient, createAuthenticator, createTokenOffline, defaultConfigText, parseConfig, startServer, type RunningServer } from '../../src/server/index.ts';
import { certActor, parseSubjectAltName, subjectAltNames, type CertGrant } from '../../src/server/mtls.ts';
import { makeEnvelope } from '../support/attestations.ts';
import { haveComponents, which } from '../support/components.ts';

const CLI = fileURLToPath(new URL('../../bin/custody.js', import.meta.url));
const quiet = new Writable({ write: (_c, _e, cb) => cb() });

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = { ...process.env, CUSTODY_TOKEN: '', CUSTODY_CACERT: '', CUSTODY_CERT: '', CUSTODY_KEY: '', ...env };
    execFile(process.execPath, [CLI, ...args], { env: clean }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

/** A PKI made with the openssl CLI: server CA + server cert, client CA + client certs, a rogue CA. */
function makePki(dir: string): void {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string): void => ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (name: string, issuer: string, cn: string, ext: string): void => {
    ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=custody tests/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${ext}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
  };
  ca('server-ca');
  ca('client-ca');
  ca('rogue-ca');
  leaf('server', 'server-ca', 'localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost');
  leaf('builder', 'client-ca', 'builder-1', 'extendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://example.org/ci/builder');
  leaf('auditor', 'client-ca', 'auditor', 'extendedKeyUsage=clientAuth');
  leaf('stranger', 'client-ca', 'stranger', 'extendedKeyUsage=clientAuth');
  // Same name as the builder, signed by a CA the server does not trust.
  leaf('forged', 'rogue-ca', 'builder-1', 'extendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://example.org/ci/builder');
}

function writeConfig(dir: string, name: string, mode: 'request' | 'require'): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `dataDir: ${name}-data`,
      'tlog:',
      '  enabled: false',
      'log:',
      '  level: silent',
      'tls:',
      '  cert: server.crt',
      '  key: server.key',
      '  clientCa: client-ca.crt',
      `  clientCerts: ${mode}`,
      '  grants:',
      '    - san: URI:spiffe://example.org/ci/builder',
      '      role: attester',
      '      namespaces: [default]',
      '    - commonName: auditor',
      '      role: admin',
      "      namespaces: ['*']",
      '',
    ].join('\n'),
  );
  return path;
}

interface Files {
  cacert: string;
  cert?: string;
  key?: string;
}

function client(url: string, dir: string, who: string | undefined, token?: string): CustodyClient {
  const tls: Files = { cacert: join(dir, 'server-ca.crt') };
  if (who !== undefined) Object.assign(tls, { cert: join(dir, `${who}.crt`), key: join(dir, `${who}.key`) });
  return new CustodyClient({ server: url, tls, ...(token === undefined ? {} : { token }) });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isCustodyError(e), String(e));
    return { code: e.code, message: e.message };
  }
  assert.fail('expected a refusal');
}

/** Audit entries matching `match`, waiting a little for ones written after the response. */
async function auditEntries(auditor: CustodyClient, match: (e: AuditEntry) => boolean, atLeast = 1): Promise<AuditEntry[]> {
  for (let attempt = 0; ; attempt++) {
    const all: AuditEntry[] = [];
    let after = 0;
    for (;;) {
      const page = await auditor.readAudit(after, 1000);
      all.push(...page.items);
      if (page.items.length < 1000) break;
      after = page.items.at(-1)!.seq;
    }
    const found = all.filter(match);
    if (found.length >= atLeast || attempt >= 20) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mTLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-mtls-'));
  const servers: RunningServer[] = [];
  const clients: CustodyClient[] = [];
  const ready = which('openssl') !== undefined;
  if (ready) makePki(dir);
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const make = (url: string, who: string | undefined, token?: string): CustodyClient => {
    const c = client(url, dir, who, token);
    clients.push(c);
    return c;
  };

  it('parses the tls section strictly', () => {
    const config = parseConfig({ tls: { cert: 's.crt', key: 's.key', clientCa: 'ca.crt', grants: [{ commonName: 'x', role: 'reader', namespaces: ['a'] }] } }, '/etc/c');
    assert.equal(config.tls?.clientCerts, 'request', 'a client CA alone means request');
    assert.equal(config.tls?.cert, '/etc/c/s.crt');
    for (const tls of [
      { cert: 's', key: 'k', clientCerts: 'require' },
      { cert: 's', key: 'k', clientCa: 'c', clientCerts: 'sometimes' },
      { cert: 's', key: 'k', clientCa: 'c', grants: [{ role: 'reader', namespaces: ['a'] }] },
      { cert: 's', key: 'k', clientCa: 'c', grants: [{ san: 'spiffe://x', role: 'reader', namespaces: ['a'] }] },
      { cert: 's', key: 'k', clientCa: 'c', grants: [{ fingerprint: 'abc', role: 'reader', namespaces: ['a'] }] },
      { cert: 's', key: 'k', clientCa: 'c', grants: [{ commonName: 'x', role: 'root', namespaces: ['a'] }] },
      { cert: 's', key: 'k', grants: [{ commonName: 'x', role: 'reader', namespaces: ['a'] }] },
      { cert: 's', key: 'k', port: 1 },
      { key: 'k' },
    ]) {
      assert.throws(() => parseConfig({ tls }, '/'), (e: unknown) => isCustodyError(e) && e.code === 'INPUT_INVALID', JSON.stringify(tls));
    }
  });

  it('parses the commented tls block custody init writes, once uncommented', () => {
    const block = /^# tls:\n(?:# {2}.*\n)+/m.exec(defaultConfigText())?.[0] ?? '';
    const config = parseConfig(parseYaml(block.replace(/^# /gm, '')), '/etc/c');
    assert.equal(config.tls?.clientCerts, 'request');
    assert.deepEqual(config.tls?.grants, [{ match: { san: 'URI:spiffe://example.org/ci/builder' }, role: 'attester', namespaces: ['app'] }]);
  });

  it('reads names from a real certificate', (t) => {
    if (!haveComponents(t, 'openssl')) return;
    const cert = new X509Certificate(execFileSync('openssl', ['x509', '-in', join(dir, 'builder.crt')]));
    assert.deepEqual(subjectAltNames(cert), ['URI:spiffe://example.org/ci/builder']);
    assert.match(certActor(cert), /^cert:builder-1#[0-9a-f]{16}$/);
  });

  it('maps peers to principals, and refuses certificate-less TLS requests when certificates are required', async (t) => {
    if (!haveComponents(t, 'openssl')) return;
    const certificate = new X509Certificate(execFileSync('openssl', ['x509', '-in', join(dir, 'builder.crt')]));
    const store = { getToken: () => Promise.resolve(undefined) };
    const grants: CertGrant[] = [{ match: { commonName: 'builder-1' }, role: 'attester', namespaces: ['app'] }];
    const required = createAuthenticator(store, undefined, undefined, { certGrants: grants, requireCertificate: true });
    const principal = await required.authenticate(undefined, { authorized: true, certificate });
    assert.deepEqual({ kind: principal.kind, role: principal.role, namespaces: principal.namespaces }, { kind: 'certificate', role: 'attester', namespaces: ['app'] });
    const code = async (p: Promise<unknown>): Promise<unknown> => p.then(() => 'allowed', (e: { code?: unknown }) => e.code);
    assert.equal(await code(required.authenticate('Bearer custody_0123456789abcdef_' + 'a'.repeat(43), { authorized: false, certificate: undefined })), 'UNAUTHENTICATED');
    assert.equal(await code(required.authenticate(undefined, { authorized: false, certificate })), 'CERT_UNTRUSTED');
    const requested = createAuthenticator(store, undefined, undefined, { certGrants: [] });
    assert.equal(await code(requested.authenticate(undefined, { authorized: true, certificate })), 'FORBIDDEN', 'no grant, no access');
    assert.equal(await code(requested.authenticate(undefined, { authorized: false, certificate: undefined })), 'UNAUTHENTICATED');
  });

  describe('with client certificates requested', () => {
    let url = '';
    let auditor: CustodyClient;
    before(async () => {
      if (!ready) return;
      const server = await startServer({ config: writeConfig(dir, 'request', 'request'), listen: '127.0.0.1:0', logStream: quiet });
      servers.push(server);
      url = server.url;
      auditor = make(url, 'auditor');
    });

    it('serves HTTPS and maps a verified certificate to its grant', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const envelope = await makeEnvelope({ subjects: ['mtls-app'] });
      const [pushed] = await make(url, 'builder').push([envelope]);
      assert.equal(pushed?.created, true);
      const [entry] = await auditEntries(auditor, (e) => e.action === 'attestations.write' && e.target === pushed?.id);
      assert.match(entry!.actor, /^cert:builder-1#[0-9a-f]{16}$/);
      assert.equal(entry!.outcome, 'allowed');
      // The attester grant is scoped to 'default' and to attestations: no token management.
      const denied = await refusal(make(url, 'builder').listTokens());
      assert.equal(denied.code, 'ACCESS_DENIED');
      assert.match(denied.message, /403 FORBIDDEN/);
    });

    it('accepts API tokens next to certificates', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const created = await auditor.createToken({ role: 'reader', namespaces: ['default'] });
      const page = await make(url, undefined, created.token).query({ limit: 1 });
      assert.ok(Array.isArray(page.items));
    });

    it('refuses a certificate from an unknown CA even with a valid token, and audits it', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const created = await auditor.createToken({ role: 'reader', namespaces: ['default'] });
      for (const c of [make(url, 'forged'), make(url, 'forged', created.token)]) {
        const r = await refusal(c.query({}));
        assert.equal(r.code, 'ACCESS_DENIED');
        assert.match(r.message, /401 CERT_UNTRUSTED/);
      }
      const entries = await auditEntries(auditor, (e) => e.outcome === 'denied' && e.detail['code'] === 'CERT_UNTRUSTED', 2);
      assert.equal(entries.length, 2);
      assert.ok(entries.every((e) => e.actor === 'anonymous'), 'an unverified certificate names no one');
    });

    it('refuses a verified certificate that no grant names, and audits it under its name', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const r = await refusal(make(url, 'stranger').query({}));
      assert.match(r.message, /403 FORBIDDEN/);
      const [entry] = await auditEntries(auditor, (e) => e.outcome === 'denied' && e.actor.startsWith('cert:stranger#'));
      assert.equal(entry?.status, 403);
    });

    it('refuses a request with neither certificate nor token', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const r = await refusal(make(url, undefined).query({}));
      assert.match(r.message, /401 UNAUTHENTICATED/);
    });

    it('is refused by a client that does not trust the server certificate', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const c = new CustodyClient({ server: url, tls: { cert: join(dir, 'builder.crt'), key: join(dir, 'builder.key') } });
      clients.push(c);
      assert.equal((await refusal(c.query({}))).code, 'SERVER_UNAVAILABLE');
    });

    it('lets the CLI push and query with --cacert/--cert/--key or the environment', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const envelope = await makeEnvelope({ subjects: ['mtls-cli'] });
      const file = join(dir, 'cli.intoto.json');
      writeFileSync(file, envelope);
      const flags = ['--cacert', join(dir, 'server-ca.crt'), '--cert', join(dir, 'builder.crt'), '--key', join(dir, 'builder.key')];
      const pushed = await cli(['push', '--server', url, ...flags, '--json', file]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const env = { CUSTODY_CACERT: join(dir, 'server-ca.crt'), CUSTODY_CERT: join(dir, 'builder.crt'), CUSTODY_KEY: join(dir, 'builder.key') };
      const found = await cli(['query', '--server', url, '--json'], env);
      assert.equal(found.code, 0, found.stderr);
      const half = await cli(['query', '--server', url, '--cacert', join(dir, 'server-ca.crt'), '--cert', join(dir, 'builder.crt')]);
      assert.equal(half.code, 2, 'a certificate without its key is a usage error');
      assert.match(half.stderr, /\[USAGE\]/);
    });
  });

  describe('with client certificates required', () => {
    let url = '';
    let auditor: CustodyClient;
    before(async () => {
      if (!ready) return;
      const config = writeConfig(dir, 'require', 'require');
      servers.push(await startServer({ config, listen: '127.0.0.1:0', logStream: quiet }));
      url = servers.at(-1)!.url;
      auditor = make(url, 'auditor');
    });

    it('serves clients with a certificate the client CA signed', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      const [pushed] = await make(url, 'builder').push([await makeEnvelope({ subjects: ['mtls-required'] })]);
      assert.equal(pushed?.created, true);
    });

    it('refuses the handshake without a certificate or with an unknown one, and audits both', async (t) => {
      if (!haveComponents(t, 'openssl')) return;
      // A valid admin token does not get a client without a certificate past the handshake.
      const { token } = await createTokenOffline({ data: join(dir, 'require-data') }, { role: 'admin', namespaces: ['*'] });
      assert.equal((await refusal(make(url, undefined, token).query({}))).code, 'SERVER_UNAVAILABLE');
      assert.equal((await refusal(make(url, 'forged').query({}))).code, 'SERVER_UNAVAILABLE');
      const entries = await auditEntries(auditor, (e) => e.action === 'tls.handshake' && e.outcome === 'denied', 2);
      assert.equal(entries.length, 2, `handshake refusals audited: ${JSON.stringify(entries)}`);
      assert.deepEqual(entries.map((e) => e.detail['code']).sort(), ['CERT_MISSING', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
      assert.ok(entries.every((e) => e.detail['ip'] === '127.0.0.1'));
      const verified = await auditor.verifyAudit();
      assert.equal(verified.ok, true);
    });
  });
});

describe('subjectAltName text', () => {
  const entry = fc.tuple(fc.constantFrom('DNS', 'URI', 'email', 'IP Address'), fc.string({ minLength: 1, maxLength: 30 }));
  it('reads back the entries node prints, quoted or not, and never throws', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (entries) => {
        // node quotes a value holding a separator or a quote as a JSON string.
        const text = entries.map(([type, value]) => `${type}:${/[,"\\\s]/.test(value) || value === '' ? JSON.stringify(value) : value}`).join(', ');
        assert.deepEqual(parseSubjectAltName(text), entries.map(([type, value]) => `${type}:${value}`));
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void parseSubjectAltName(text)));
  });
});
