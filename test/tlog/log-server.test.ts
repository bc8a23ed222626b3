// The transparency log inside custody serve: appends over HTTP answer with Sigstore tlogEntries
// items whose proofs verify against the signed checkpoint, duplicates come back with their first
// index, tiles are served read-only, accepted attestations are logged, and a Sigstore bundle with
// an entry from this log verifies with @sigstore/verify and the server's trusted root.
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, VerificationError as SigstoreVerificationError, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { encodeBase64, generateKeyPair, makeStatement, signEnvelope } from '../../src/core/index.ts';
import {
  hashedRekordBody,
  dsseBody,
  openCheckpoint,
  parseVerifierKey,
  proveInclusion,
  verifyInclusion,
  leafHash,
  readEntry,
  type TileFetcher,
} from '../../src/tlog/index.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';

interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  canonicalizedBody: string;
  inclusionProof: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint: { envelope: string } };
}
interface AppendResult {
  index: number;
  duplicate: boolean;
  checkpoint: string;
  tlogEntry: TlogEntryJson;
}

const b = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Checks an append result on its own: the proof against the checkpoint, signed by the log key. */
function checkResult(result: AppendResult, entry: Uint8Array, verifierKey: string): void {
  const opened = openCheckpoint(result.checkpoint, { log: parseVerifierKey(verifierKey) });
  const p = result.tlogEntry.inclusionProof;
  assert.equal(p.checkpoint.envelope, result.checkpoint);
  assert.equal(Number(p.treeSize), opened.checkpoint.size);
  assert.equal(p.rootHash, encodeBase64(opened.checkpoint.rootHash));
  assert.equal(result.tlogEntry.canonicalizedBody, encodeBase64(entry));
  verifyInclusion(
    result.index,
    opened.checkpoint.size,
    leafHash(entry),
    p.hashes.map((h) => new Uint8Array(Buffer.from(h, 'base64'))),
    opened.checkpoint.rootHash,
  );
}

describe('custody serve transparency log', () => {
  let h: Harness;
  let verifierKey: string;

  before(async () => {
    h = await startHarness();
    const info = await h.inject({ method: 'GET', url: '/v1/log' });
    assert.equal(info.statusCode, 200);
    verifierKey = info.json<{ verifierKey: string }>().verifierKey;
  });
  after(async () => h.close());

  const append = (body: Buffer, token = h.tokens.attester) =>
    h.inject({ method: 'POST', url: '/v1/log/entries', token, headers: { 'content-type': 'application/octet-stream' }, payload: body });

  describe('when appending', () => {
    it('answers a raw entry with its index and an inclusion proof against the signed checkpoint', async () => {
      const res = await append(b('first entry'));
      assert.equal(res.statusCode, 200, res.body);
      const result = res.json<AppendResult>();
      assert.equal(result.duplicate, false);
      assert.deepEqual(result.tlogEntry.kindVersion, { kind: 'custody-entry', version: '0.0.1' });
      assert.equal(result.tlogEntry.logIndex, String(result.index));
      checkResult(result, b('first entry'), verifierKey);
    });

    it('deduplicates identical entries: the first index comes back', async () => {
      const first = (await append(b('same bytes'))).json<AppendResult>();
      const again = (await append(b('same bytes'))).json<AppendResult>();
      assert.equal(again.index, first.index);
      assert.equal(again.duplicate, true);
      checkResult(again, b('same bytes'), verifierKey);
    });

    it('appends a JSON batch in order, deduplicating inside the batch', async () => {
      const entries = ['b1', 'b2', 'b3', 'b1'].map((t) => b(`batch ${t}`));
      const res = await h.inject({ method: 'POST', url: '/v1/log/entries', token: h.tokens.signer, payload: { entries: entries.map((e) => e.toString('base64')) } });
      assert.equal(res.statusCode, 200, res.body);
      const { results } = res.json<{ results: AppendResult[] }>();
      assert.equal(results.length, 4);
      assert.equal(results[1]!.index, results[0]!.index + 1);
      assert.equal(results[2]!.index, results[0]!.index + 2);
      assert.equal(results[3]!.index, results[0]!.index);
      assert.equal(results[3]!.duplicate, true);
      results.forEach((r, i) => checkResult(r, entries[i]!, verifierKey));
    });

    it('answer=index: indexes and one covering checkpoint, no proofs; the entries are in the log at those indexes', async () => {
      const entries = ['i1', 'i2', 'i1'].map((t) => b(`index answer ${t}`));
      const res = await h.inject({ method: 'POST', url: '/v1/log/entries?answer=index', token: h.tokens.signer, payload: { entries: entries.map((e) => e.toString('base64')) } });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ checkpoint: string; results: { index: number; duplicate: boolean }[] }>();
      assert.deepEqual(Object.keys(body).sort(), ['checkpoint', 'results']);
      assert.deepEqual(body.results.map((r) => Object.keys(r).sort()), Array(3).fill(['duplicate', 'index']));
      assert.deepEqual(body.results.map((r) => r.duplicate), [false, false, true]);
      assert.equal(body.results[1]!.index, body.results[0]!.index + 1);
      assert.equal(body.results[2]!.index, body.results[0]!.index);
      const size = openCheckpoint(body.checkpoint, { log: parseVerifierKey(verifierKey) }).checkpoint.size;
      assert.ok(size > body.results[1]!.index, 'the checkpoint covers the entries');
      // The proofs come later: by leaf hash, at the same index.
      const found = await h.inject({ method: 'GET', url: `/v1/log/leaves/${Buffer.from(leafHash(entries[1]!)).toString('hex')}` });
      assert.equal(found.json<AppendResult>().index, body.results[1]!.index);
      checkResult(found.json<AppendResult>(), entries[1]!, verifierKey);
      // One raw entry: {index, duplicate, checkpoint}.
      const one = await h.inject({ method: 'POST', url: '/v1/log/entries?answer=index', token: h.tokens.signer, headers: { 'content-type': 'application/octet-stream' }, payload: entries[0]! });
      assert.deepEqual(one.json<{ index: number; duplicate: boolean }>().index, body.results[0]!.index);
      assert.equal(one.json<{ duplicate: boolean }>().duplicate, true);
      assert.equal(typeof one.json<{ checkpoint: string }>().checkpoint, 'string');
      const bad = await h.inject({ method: 'POST', url: '/v1/log/entries?answer=proofs', token: h.tokens.signer, payload: { entries: [entries[0]!.toString('base64')] } });
      assert.equal(bad.statusCode, 400);
    });

    it('finds a logged entry by its leaf hash (GET /v1/log/leaves/…), and answers 404 for one never logged', async () => {
      const first = (await append(b('to be found'))).json<AppendResult>();
      const hexLeaf = (e: Buffer): string => Buffer.from(leafHash(e)).toString('hex');
      const found = await h.inject({ method: 'GET', url: `/v1/log/leaves/${hexLeaf(b('to be found'))}` });
      assert.equal(found.statusCode, 200, found.body);
      const result = found.json<AppendResult>();
      assert.equal(result.index, first.index);
      checkResult(result, b('to be found'), verifierKey);
      // Same first 8 bytes of the leaf hash, different rest: the in-memory index's candidate is rejected.
      const twin = Buffer.from(leafHash(b('to be found')));
      twin[31] = twin[31]! ^ 1;
      assert.equal((await h.inject({ method: 'GET', url: `/v1/log/leaves/${twin.toString('hex')}` })).statusCode, 404);
      assert.equal((await h.inject({ method: 'GET', url: `/v1/log/leaves/${hexLeaf(b('never logged'))}` })).statusCode, 404);
      assert.equal((await h.inject({ method: 'GET', url: '/v1/log/leaves/not-hex' })).statusCode, 400);
    });

    it('integrates concurrent appends, each with a valid proof and a distinct index', async () => {
      const entries = Array.from({ length: 300 }, (_, i) => b(`concurrent ${i}`));
      const results = await Promise.all(entries.map((e) => append(e).then((r) => r.json<AppendResult>())));
      assert.equal(new Set(results.map((r) => r.index)).size, 300);
      results.forEach((r, i) => checkResult(r, entries[i]!, verifierKey));
    });

    it('refuses roles without log.append (reader) with 403', async () => {
      const res = await append(b('not allowed'), h.tokens.reader);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ code: string }>().code, 'FORBIDDEN');
    });

    it('refuses an empty entry and a malformed batch with 400', async () => {
      assert.equal((await append(Buffer.alloc(0))).statusCode, 400);
      const res = await h.inject({ method: 'POST', url: '/v1/log/entries', token: h.tokens.admin, payload: { entries: 'nope' } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<{ code: string }>().code, 'INPUT_INVALID');
    });
  });

  describe('when reading the log over HTTP', () => {
    const fetcher = (): TileFetcher => ({
      fetchTile: async (path) => {
        const res = await h.inject({ method: 'GET', url: `/log/${path}` });
        if (res.statusCode === 404) return undefined;
        assert.equal(res.statusCode, 200);
        return new Uint8Array(res.rawPayload);
      },
    });

    it('serves the checkpoint and tiles publicly; proofs computed from them verify', async () => {
      const cp = await h.inject({ method: 'GET', url: '/log/checkpoint' });
      assert.equal(cp.statusCode, 200);
      const opened = openCheckpoint(cp.body, { log: parseVerifierKey(verifierKey) });
      const { leafHash: lh } = await proveInclusion(fetcher(), opened.checkpoint, 0);
      assert.deepEqual(Buffer.from(lh), Buffer.from(leafHash(b('first entry'))));
      assert.deepEqual(Buffer.from(await readEntry(fetcher(), opened.checkpoint.size, 0)), b('first entry'));
    });

    it('answers 404 for paths that are not tlog-tiles resources', async () => {
      for (const url of ['/log/../custody.db', '/log/tile/0/x', '/log/log-key', '/log/tile/0/999']) {
        assert.equal((await h.inject({ method: 'GET', url })).statusCode, 404, url);
      }
    });
  });

  describe('when attestations are uploaded', () => {
    it('logs each accepted attestation', async () => {
      const before = openCheckpoint((await h.inject({ method: 'GET', url: '/log/checkpoint' })).body, { log: parseVerifierKey(verifierKey) }).checkpoint.size;
      const statement = makeStatement([{ name: 'x', digest: { sha256: 'a'.repeat(64) } }], 'https://example.com/p/v1', {});
      const env = await signEnvelope('application/vnd.in-toto+json', new TextEncoder().encode(JSON.stringify(statement)), [h.key.signer()]);
      const res = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, payload: env });
      assert.equal(res.statusCode, 201, res.body);
      const afterSize = openCheckpoint((await h.inject({ method: 'GET', url: '/log/checkpoint' })).body, { log: parseVerifierKey(verifierKey) }).checkpoint.size;
      assert.equal(afterSize, before + 1);
    });
  });
});

/** The trusted root JSON as the protobuf object toTrustMaterial takes (bytes as Buffers, dates as Date). */
function trustedRootObject(json: Record<string, unknown>): Parameters<typeof toTrustMaterial>[0] {
  const tlogs = (json['tlogs'] as Record<string, Record<string, unknown>>[]).map((t) => ({
    baseUrl: t['baseUrl'] as unknown as string,
    hashAlgorithm: 1,
    publicKey: {
      rawBytes: Buffer.from(t['publicKey']!['rawBytes'] as string, 'base64'),
      keyDetails: 7, // PKIX_ED25519
      validFor: { start: new Date((t['publicKey']!['validFor'] as { start: string }).start) },
    },
    logId: { keyId: Buffer.from(t['logId']!['keyId'] as string, 'base64') },
    checkpointKeyId: { keyId: Buffer.from(t['checkpointKeyId']!['keyId'] as string, 'base64') },
  }));
  return { mediaType: json['mediaType'], tlogs, certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } as unknown as Parameters<typeof toTrustMaterial>[0];
}

describe('Sigstore interop: bundles with an entry from a custody log', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  const signer = generateKeyPair('ecdsa-p256');
  const spki = signer.publicKey.keyObject.export({ format: 'der', type: 'spki' });
  const keys = (k: KeyObject) => (hint: string) => {
    if (hint !== 'test-key') throw new SigstoreVerificationError({ code: 'PUBLIC_KEY_ERROR', message: hint });
    return { publicKey: k, validFor: () => true };
  };

  async function trustedRoot() {
    const res = await h.inject({ method: 'GET', url: '/v1/trusted-root' });
    assert.equal(res.statusCode, 200);
    return trustedRootObject(res.json<Record<string, unknown>>());
  }

  async function logged(body: Uint8Array): Promise<TlogEntryJson> {
    const res = await h.inject({ method: 'POST', url: '/v1/log/entries', token: h.tokens.signer, headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from(body) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<AppendResult>().tlogEntry;
  }

  it('verifies a messageSignature bundle whose hashedrekord v0.0.2 entry came from the log (tlogThreshold 1)', async () => {
    const artifact = b('the artifact bytes');
    const digest = createHash('sha256').update(artifact).digest();
    const signature = cryptoSign('sha256', artifact, signer.keyObject);
    const entry = await logged(hashedRekordBody({ digest, signature, verifier: { publicKeyDer: spki, keyDetails: 'PKIX_ECDSA_P256_SHA_256' } }));
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    const bundleJson = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'test-key' }, tlogEntries: [entry], timestampVerificationData: { rfc3161Timestamps: [] } },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: signature.toString('base64') },
    };
    const verifier = new Verifier(toTrustMaterial(await trustedRoot(), keys(signer.publicKey.keyObject)), { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 });
    verifier.verify(toSignedEntity(bundleFromJSON(bundleJson), artifact));

    // A checkpoint altered after signing fails.
    // A log entry for another signature does not count for this bundle.
    const other = await logged(hashedRekordBody({ digest, signature: cryptoSign('sha256', b('other'), signer.keyObject), verifier: { publicKeyDer: spki, keyDetails: 'PKIX_ECDSA_P256_SHA_256' } }));
    const mismatched = structuredClone(bundleJson);
    mismatched.verificationMaterial.tlogEntries[0] = other;
    assert.throws(() => verifier.verify(toSignedEntity(bundleFromJSON(mismatched), artifact)), (e: unknown) => e instanceof SigstoreVerificationError && e.code === 'TLOG_BODY_ERROR');
    const tamperedCheckpoint = structuredClone(bundleJson);
    tamperedCheckpoint.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope = entry.inclusionProof.checkpoint.envelope.replace(/\n\d+\n/, '\n99999\n');
    assert.throws(() => verifier.verify(toSignedEntity(bundleFromJSON(tamperedCheckpoint), artifact)), (e: unknown) => e instanceof SigstoreVerificationError);
    // Without the log in the trusted root there is no verified entry.
    const noLog = new Verifier(toTrustMaterial({ ...(await trustedRoot()), tlogs: [] }, keys(signer.publicKey.keyObject)), {
      tlogThreshold: 1,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    });
    assert.throws(() => noLog.verify(toSignedEntity(bundleFromJSON(bundleJson), artifact)), (e: unknown) => e instanceof SigstoreVerificationError);
  });

  it('verifies a DSSE bundle whose dsse v0.0.2 entry came from the log', async () => {
    const statement = makeStatement([{ name: 'a', digest: { sha256: 'b'.repeat(64) } }], 'https://example.com/p/v1', {});
    const payload = new TextEncoder().encode(JSON.stringify(statement));
    const env = await signEnvelope('application/vnd.in-toto+json', payload, [signer.signer()]);
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    const entry = await logged(dsseBody({ payload, signatures: [{ signature: sig, verifier: { publicKeyDer: spki, keyDetails: 'PKIX_ECDSA_P256_SHA_256' } }] }));
    assert.deepEqual(entry.kindVersion, { kind: 'dsse', version: '0.0.2' });
    const bundleJson = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'test-key' }, tlogEntries: [entry], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: { ...env, signatures: [{ sig: env.signatures[0]!.sig, keyid: '' }] },
    };
    const verifier = new Verifier(toTrustMaterial(await trustedRoot(), keys(signer.publicKey.keyObject)), { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 });
    verifier.verify(toSignedEntity(bundleFromJSON(bundleJson)));
  });
});
