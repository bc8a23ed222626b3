// The signing service with its keys in SoftHSM2 (PKCS#11): the bundle verifies, the key stayed
// sensitive and non-extractable in the token, and neither the PIN nor API tokens reach the logs.
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { generateKeyPair } from '../../src/core/index.ts';
import { Pkcs11KeyBackend } from '../../src/keys/index.ts';
import { trustedLogsFromRoot, verifyBundle } from '../../src/server/index.ts';
import { SLSA_V1, makeEnvelope } from '../support/attestations.ts';
import { startHarness } from '../support/server-harness.ts';
import { SOFTHSM_LIBRARY, USER_PIN, softToken } from './softhsm.ts';

describe('POST /v1/sign with a PKCS#11 key (SoftHSM2)', () => {
  it('signs inside the token; the bundle verifies; the PIN and tokens never reach the logs', async (t) => {
    const label = softToken(t, 'signing');
    if (label === undefined) return;
    const setup = new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: USER_PIN });
    const pub = await setup.publicKey((await setup.create({ name: 'hsm-release', type: 'ecdsa-p256' })).name);
    await setup.close();

    const dir = mkdtempSync(join(tmpdir(), 'custody-sign-hsm-'));
    const builder = generateKeyPair('ed25519');
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ _type: 'https://custody.dev/policy/v1', expires: '2030-01-01T00:00:00Z', functionaries: { builder: { publicKey: builder.publicKey.pem } }, steps: [{ name: 'build', predicateTypes: [SLSA_V1], functionaries: ['builder'] }] }));
    process.env['CUSTODY_TEST_PIN'] = USER_PIN;
    const h = await startHarness({
      configure: (config) => {
        config.signing = {
          enabled: true,
          backend: { kind: 'pkcs11', library: SOFTHSM_LIBRARY, tokenLabel: label, pinEnv: 'CUSTODY_TEST_PIN', sessions: 2 },
          keys: [{ name: 'hsm-release', policy, policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, modes: ['verify-then-sign'] }],
          grants: [{ principals: ['token:*'], keys: ['hsm-release'], artifacts: ['*.tgz'] }],
          jobIntervalMs: 1000,
          verifyTimeoutMs: 60_000,
          maxAttestations: 100,
        };
      },
    });
    try {
      const artifact = Buffer.from('hsm-signed artifact');
      const sha = createHash('sha256').update(artifact).digest('hex');
      const envelope = await makeEnvelope({ subjects: [{ name: 'a.tgz', digest: { sha256: sha } }], predicateType: SLSA_V1, predicate: { buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id: 'https://ci.example/b' } } }, keys: [builder] });
      const up = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/json' }, payload: envelope });
      assert.ok(up.statusCode < 300, up.body);
      const r = await h.inject({ method: 'POST', url: '/v1/sign', token: h.tokens.signer, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ digest: sha, keyRef: 'hsm-release', artifactName: 'a.tgz' }) });
      assert.equal(r.statusCode, 200, r.body);
      const { bundle, keyid } = r.json<{ bundle: unknown; keyid: string }>();
      assert.equal(keyid, pub.keyid);
      const root = (await h.inject({ method: 'GET', url: '/v1/trusted-root' })).json<unknown>();
      const keys = (hint: string) => {
        assert.equal(hint, pub.keyid);
        return { publicKey: createPublicKey(pub.pem), validFor: () => true };
      };
      new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root), keys), { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundle), artifact));
      verifyBundle({ bundle, artifactSha256: Buffer.from(sha, 'hex'), artifact, keys: [pub], logs: trustedLogsFromRoot(root) });
    } finally {
      await h.close();
    }
    const text = h.logs.join('');
    assert.ok(text.length > 0);
    assert.equal(text.includes(USER_PIN), false);
    for (const token of Object.values(h.tokens)) assert.equal(text.includes(token), false);

    const check = new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: USER_PIN });
    try {
      assert.deepEqual(await check.privateKeyAttributes('hsm-release'), { sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true, valueReadable: false });
    } finally {
      await check.close();
    }
  });
});
