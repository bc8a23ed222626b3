// Policy files named in the server config (tuf.admission, gate): read at start, so a missing or
// malformed policy stops `custody serve` with its path instead of failing requests later.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError, parseJson } from '../core/index.ts';
import { loadPublicKeyFile } from '../keys/index.ts';
import { policyInputFromBytes, type KeylessVerifier, type PolicyInput, type PolicyTrust } from '../policy/index.ts';
import { keylessPolicyVerifier } from './ca/keyless-policy-verifier.ts';
import type { PolicyFilesConfig } from './tuf-config.ts';

export interface LoadedPolicies {
  policies: { name: string; input: PolicyInput }[];
  trust: PolicyTrust;
}

function loadPolicyInput(path: string, allowUnsigned: boolean, where: string): PolicyInput {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `${where}: cannot read policy ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return policyInputFromBytes(bytes, `${where}: ${path}`, { allowed: allowUnsigned, code: 'POLICY_INVALID', hint: 'set allowUnsignedPolicy: true' });
}

/** Reads the policies and their owners' keys; `where` names the config section in errors. */
export function loadPolicyFiles(config: PolicyFilesConfig, where: string): LoadedPolicies {
  return {
    policies: config.policies.map((p) => ({ name: basename(p), input: loadPolicyInput(p, config.allowUnsignedPolicy, where) })),
    trust: {
      owners: { keys: config.policyKeys.map((k) => loadPublicKeyFile(k)), threshold: config.policyThreshold },
      allowUnsignedPolicy: config.allowUnsignedPolicy,
      ...(config.trustedRoot === undefined ? {} : { keyless: loadKeylessVerifier(config.trustedRoot, where) }),
    },
  };
}

/** The keyless verifier over a trusted_root.json named in the config (identity functionaries). */
export function loadKeylessVerifier(path: string, where: string): KeylessVerifier {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `${where}: cannot read trustedRoot ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return keylessPolicyVerifier(parseJson(text, `${where}.trustedRoot ${path}`));
}
