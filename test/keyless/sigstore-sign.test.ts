// The other direction: sigstore-js (@sigstore/sign) signs keylessly against custody alone, driven
// by custody's signing_config.json: its FulcioSigner gets the certificate from custody's CA, its
// Rekor v2 witness logs the signature in custody's log, its TSA witness time-stamps it. custody's
// verifier and @sigstore/verify both accept the bundle; the identity policy still decides.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleToJSON } from '@sigstore/bundle';
import { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON } from '@sigstore/bundle';
import { PolicyError } from '../../src/core/index.ts';
import { mintIdentityToken, verifyKeylessBundle } from '../../src/server/index.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

describe('sigstore-js signs keylessly with custody as its Fulcio, Rekor v2 and TSA', () => {
  let h: CaHarness;
  before(async () => {
    h = await startCaHarness();
  });
  after(async () => h.stop());

  it('produces a bundle that custody and @sigstore/verify accept, for the minted identity only', async () => {
    // The signing config names the configured public URL; point it at this test server's port.
    const text = JSON.stringify(await (await fetch(`${h.url}/v1/ca/signing-config`)).json()).replaceAll(h.issuer, h.url);
    const signingConfig = SigningConfig.fromJSON(JSON.parse(text));
    const minted = await mintIdentityToken(h.url, h.tokens.signer, { step: 'publish', ttlSeconds: 300 });
    const builder = bundleBuilderFromSigningConfig({ signingConfig, identityProvider: { getToken: () => Promise.resolve(minted.token) }, bundleType: 'messageSignature' });
    const artifact = Buffer.from('signed by sigstore-js');
    const bundle = bundleToJSON(await builder.create({ data: artifact })) as unknown as Record<string, unknown>;
    // sigstore-js's message-signature builder writes v0.2 (the certificate in x509CertificateChain).
    assert.match(String(bundle['mediaType']), /^application\/vnd\.dev\.sigstore\.bundle/);

    const root = await (await fetch(`${h.url}/v1/ca/trusted-root`)).json();
    const v = verifyKeylessBundle({ bundle, artifact, trustedRoot: root, identities: [{ subject: minted.subject, issuer: h.issuer }] });
    assert.equal(v.identity, minted.subject);
    assert.equal(v.logIndexes.length, 1);
    new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), { ctlogThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundle), artifact), {
      subjectAlternativeName: minted.subject.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'),
      extensions: { issuer: h.issuer },
    });
    assert.throws(
      () => verifyKeylessBundle({ bundle, artifact, trustedRoot: root, identities: [{ subject: '/.*\\/steps\\/release/', issuer: h.issuer }] }),
      (e: unknown) => e instanceof PolicyError && e.code === 'IDENTITY_MISMATCH',
    );
  });
});
