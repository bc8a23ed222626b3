// The policy engine's KeylessVerifier (policy/attestation-policy/identity.ts) over a Sigstore
// trusted_root.json: keyless DSSE bundles checked by verifyKeylessDsse, failures reported with the
// identity the certificate claims, so the policy can tell a forged functionary from a stranger.
import { InputError, isCustodyError } from '../../core/index.ts';
import type { KeylessCheck, KeylessIdentity, KeylessVerifier } from '../../policy/index.ts';
import { bundleLeaf, verifyKeylessDsse } from './keyless-dsse.ts';
import { certificateIdentity } from './verify-keyless.ts';

function claimedIdentity(bundle: unknown): KeylessIdentity | undefined {
  try {
    const leaf = bundleLeaf(bundle);
    if (leaf === undefined) return undefined;
    const id = certificateIdentity(leaf);
    return { subject: id.identity, issuer: id.issuer };
  } catch {
    return undefined;
  }
}

/** A verifier over a parsed trusted root; INPUT_INVALID when it names no certificate authority. */
export function keylessPolicyVerifier(trustedRoot: unknown): KeylessVerifier {
  if (typeof trustedRoot !== 'object' || trustedRoot === null || !Array.isArray((trustedRoot as Record<string, unknown>)['certificateAuthorities'])) {
    throw new InputError('INPUT_INVALID', 'the trusted root has no certificateAuthorities: not a Sigstore trusted_root.json');
  }
  return {
    verify(envelope, material): KeylessCheck {
      try {
        const v = verifyKeylessDsse({ bundle: material, trustedRoot, envelope });
        return { ok: true, identity: { subject: v.identity, issuer: v.issuer }, signedAt: v.signedAt };
      } catch (e) {
        const claimed = claimedIdentity(material);
        return { ok: false, code: isCustodyError(e) ? e.code : 'KEYLESS_INVALID', reason: e instanceof Error ? e.message : String(e), ...(claimed === undefined ? {} : { claimed }) };
      }
    },
  };
}
