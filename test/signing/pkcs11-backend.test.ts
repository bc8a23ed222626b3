// PKCS#11 on SoftHSM2: the shared contract, and the promise that private keys never leave the
// token (CKA_SENSITIVE, not CKA_EXTRACTABLE, value unreadable).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pkcs11KeyBackend } from '../../src/keys/index.ts';
import { runKeyBackendContract } from './key-backend.contract.ts';
import { SOFTHSM_LIBRARY, USER_PIN, softToken } from './softhsm.ts';
import { requireComponents, which } from '../support/components.ts';

let tokens = 0;

function backend(label: string): Pkcs11KeyBackend {
  return new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: USER_PIN, sessions: 4 });
}

const available = which('softhsm2-util') !== undefined && which(SOFTHSM_LIBRARY) !== undefined;

runKeyBackendContract('PKCS#11 (SoftHSM2)', ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'], () => {
  if (!available) {
    // CI (CUSTODY_REQUIRE_COMPONENTS=1) must not skip the HSM contract.
    if (requireComponents) return Promise.reject(new Error('softhsm2 is missing; CUSTODY_REQUIRE_COMPONENTS=1 forbids skipping'));
    return Promise.resolve(undefined);
  }
  return Promise.resolve(backend(softToken(undefined, `contract-${tokens++}`)!));
});

describe('Pkcs11KeyBackend', () => {
  describe('when a key is generated in the token', () => {
    it('is sensitive and non-extractable, and its private value cannot be read', async (t) => {
      const label = softToken(t, 'sensitive');
      if (label === undefined) return;
      const b = backend(label);
      try {
        for (const type of ['ecdsa-p256', 'rsa', 'ed25519'] as const) {
          await b.create({ name: `s-${type}`, type });
          const attrs = await b.privateKeyAttributes(`s-${type}`);
          assert.deepEqual(attrs, { sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true, valueReadable: false }, type);
        }
      } finally {
        await b.close();
      }
    });
  });

  describe('when the PIN is wrong', () => {
    it('refuses to open the backend', (t) => {
      const label = softToken(t, 'badpin');
      if (label === undefined) return;
      assert.throws(
        () => new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: '000000' }),
        (e) => e instanceof Error && (e as { code?: string }).code === 'KEY_PASSPHRASE_WRONG',
      );
    });
  });
});
