// The CA with its intermediate and TSA keys inside a PKCS#11 token (SoftHSM2): `ca init` creates
// them in the token, the issued leaf and the time-stamp verify under the certificates.
import { X509Certificate, createHash, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RFC3161Timestamp } from '@sigstore/core';
import { generateKeyPair } from '../../src/core/index.ts';
import { Pkcs11KeyBackend } from '../../src/keys/index.ts';
import {
  CertificateAuthority,
  createIdentityTokenVerifier,
  createTimestampAuthority,
  createWorkloadIssuer,
  defaultCaConfig,
  initCa,
  loadCaMaterial,
  timestampRequest,
} from '../../src/server/index.ts';
import { SOFTHSM_LIBRARY, USER_PIN, softToken } from '../signing/softhsm.ts';

describe('keyless CA with keys in SoftHSM2', () => {
  it('initializes in the token, issues a chained leaf and signs time-stamps there', async (t) => {
    const label = softToken(t, 'custody-ca');
    if (label === undefined) return;
    const dir = mkdtempSync(join(tmpdir(), 'custody-ca-hsm-'));
    const config = defaultCaConfig(dir);
    config.backend = { kind: 'pkcs11', library: SOFTHSM_LIBRARY, tokenLabel: label, pinEnv: 'CUSTODY_PKCS11_PIN', sessions: 1 };
    const backend = new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: USER_PIN, sessions: 1 });
    try {
      await initCa({ config, backend, organization: 'hsm', rootKeyOut: join(dir, 'root.key'), rootPassphrase: 'root passphrase', now: new Date() });
      assert.equal((await backend.info(config.intermediateKey)).backend, 'pkcs11');
      const m = await loadCaMaterial(config, backend);
      const issuer = createWorkloadIssuer({ issuer: 'http://127.0.0.1:1', key: m.identityKey, audience: 'sigstore', maxTtlSeconds: 600, now: () => new Date() });
      const ca = new CertificateAuthority({
        root: m.root,
        intermediate: m.intermediate,
        signer: m.intermediateSigner,
        verifier: createIdentityTokenVerifier([{ cfg: issuer.caIssuer(), jwks: await issuer.jwks() }]),
        validitySeconds: 600,
        log: undefined,
        now: () => new Date(),
      });
      const minted = await issuer.mint({ actor: 'token:x', namespace: 'default', step: 'build', ttlSeconds: 60 });
      const key = generateKeyPair('ecdsa-p256');
      const issued = await ca.issue({ token: minted.token, publicKey: key.publicKey.pem, proofOfPossession: cryptoSign('sha256', Buffer.from(minted.subject), key.keyObject).toString('base64') });
      const [leaf, inter, root] = issued.chain.map((d) => new X509Certificate(d));
      assert.ok(leaf!.verify(inter!.publicKey) && inter!.verify(root!.publicKey));
      assert.equal(leaf!.subjectAltName, `URI:${minted.subject}`);

      const tsa = createTimestampAuthority({ certificate: m.tsa, signer: m.tsaSigner, now: () => new Date() });
      const data = Buffer.from('signature bytes');
      const reply = RFC3161Timestamp.parse(Buffer.from(await tsa.timestamp(timestampRequest(createHash('sha256').update(data).digest()))));
      reply.verify(data, new X509Certificate(m.tsa).publicKey);
      assert.throws(() => reply.verify(Buffer.from('other'), new X509Certificate(m.tsa).publicKey));
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
