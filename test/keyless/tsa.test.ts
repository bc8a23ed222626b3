// The RFC 3161 time-stamp authority at POST /api/v1/timestamp: requests made by `openssl ts
// -query` get replies that the real `openssl ts -verify` accepts against custody's root (and
// refuses for other data); unsupported hash algorithms get a rejection status; garbage is a 400.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PKIStatus, TimeStampResp } from '@peculiar/asn1-tsp';
import { haveComponents } from '../support/components.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

describe('RFC 3161 time-stamp authority', () => {
  let h: CaHarness;
  let dir: string;
  before(async () => {
    h = await startCaHarness();
    dir = mkdtempSync(join(tmpdir(), 'custody-tsa-'));
    writeFileSync(join(dir, 'data'), 'the signature bytes');
    writeFileSync(join(dir, 'other'), 'other bytes');
  });
  after(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stamp(query: Buffer): Promise<{ status: number; body: Buffer; type: string }> {
    const res = await h.inject({ method: 'POST', url: '/api/v1/timestamp', headers: { 'content-type': 'application/timestamp-query' }, payload: query });
    return { status: res.statusCode, body: res.rawPayload, type: String(res.headers['content-type']) };
  }

  const openssl = (...args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });

  it('openssl ts -verify accepts the reply for the query and the data, against the custody root', async (t) => {
    if (!haveComponents(t, 'openssl')) return;
    execFileSync('openssl', ['ts', '-query', '-data', 'data', '-sha256', '-cert', '-out', 'req.tsq'], { cwd: dir });
    const reply = await stamp(readFileSync(join(dir, 'req.tsq')));
    assert.equal(reply.status, 200);
    assert.equal(reply.type, 'application/timestamp-reply');
    writeFileSync(join(dir, 'resp.tsr'), reply.body);
    const ca = ['-CAfile', join(h.caDir, 'root.pem'), '-untrusted', join(h.caDir, 'tsa.pem')];
    const byQuery = openssl('ts', '-verify', '-in', 'resp.tsr', '-queryfile', 'req.tsq', ...ca);
    assert.equal(byQuery.status, 0, byQuery.stderr);
    assert.match(byQuery.stdout, /Verification: OK/);
    const byData = openssl('ts', '-verify', '-in', 'resp.tsr', '-data', 'data', ...ca);
    assert.equal(byData.status, 0, byData.stderr);
    // Other data, or another trust anchor, fail.
    assert.notEqual(openssl('ts', '-verify', '-in', 'resp.tsr', '-data', 'other', ...ca).status, 0);
    assert.notEqual(openssl('ts', '-verify', '-in', 'resp.tsr', '-data', 'data', '-CAfile', join(h.caDir, 'tsa.pem')).status, 0);
    // The nonce of the query is echoed (openssl checks it with -queryfile; shown in the text form).
    const text = openssl('ts', '-reply', '-in', 'resp.tsr', '-text');
    assert.match(text.stdout, /Policy OID: 1\.3\.6\.1\.4\.1\.57264\.2/);
    assert.match(text.stdout, /Nonce: 0x[0-9A-F]+/);
  });

  it('answers an unsupported hash algorithm with a rejection status (badAlg)', async (t) => {
    if (!haveComponents(t, 'openssl')) return;
    execFileSync('openssl', ['ts', '-query', '-data', 'data', '-sha1', '-out', 'sha1.tsq'], { cwd: dir });
    const reply = await stamp(readFileSync(join(dir, 'sha1.tsq')));
    assert.equal(reply.status, 200);
    const resp = AsnConvert.parse(reply.body, TimeStampResp);
    assert.equal(resp.status.status, PKIStatus.rejection);
    assert.equal(resp.timeStampToken, undefined);
  });

  it('refuses a body that is not a TimeStampReq with 400, and other media types with 415', async () => {
    const garbage = await stamp(Buffer.from('definitely not DER'));
    assert.equal(garbage.status, 400);
    const text = await h.inject({ method: 'POST', url: '/api/v1/timestamp', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    assert.equal(text.statusCode, 415);
  });

  it('accepts the JSON form sigstore clients send ({artifactHash, hashAlgorithm})', async () => {
    const res = await h.inject({ method: 'POST', url: '/api/v1/timestamp', payload: { artifactHash: Buffer.alloc(32, 7).toString('base64'), hashAlgorithm: 'sha256', certificates: true } });
    assert.equal(res.statusCode, 200);
    assert.equal(AsnConvert.parse(res.rawPayload, TimeStampResp).status.status, PKIStatus.granted);
    const bad = await h.inject({ method: 'POST', url: '/api/v1/timestamp', payload: { artifactHash: 'AAAA', hashAlgorithm: 'sha256' } });
    assert.equal(bad.statusCode, 400);
  });
});
