// The policy engine's KeylessVerifier over a trusted_root.json file (`--trusted-root`, e.g. GET
// /v1/ca/trusted-root of a custody server): keyless attestations count for identity functionaries.
import { parseJson } from '../core/index.ts';
import type { KeylessVerifier } from '../policy/index.ts';
import { keylessPolicyVerifier } from '../server/index.ts';
import { readFileOrFail } from './io.ts';

export function keylessVerifierFromFile(path: string): KeylessVerifier {
  return keylessPolicyVerifier(parseJson(readFileOrFail(path, 'trusted root'), `trusted root ${path}`));
}
