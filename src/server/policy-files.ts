// Policy files named in the server config (tuf.admission, gate): read at start, so a missing or
// malformed policy stops `custody serve` with its path instead of failing requests later.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError, parseEnvelope } from '../core/index.ts';
import { loadPublicKeyFile } from '../keys/index.ts';
import { POLICY_PAYLOAD_TYPE, parsePolicyDocument, policyDigest, type PolicyInput, type PolicyTrust } from '../policy/index.ts';
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
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  if (typeof json === 'object' && json !== null && 'payloadType' in json && 'signatures' in json) {
    const envelope = parseEnvelope(json);
    if (envelope.payloadType !== POLICY_PAYLOAD_TYPE) throw new InputError('POLICY_INVALID', `${where}: ${path}: payloadType is not ${POLICY_PAYLOAD_TYPE}`);
    return { envelope };
  }
  if (!allowUnsigned) throw new InputError('POLICY_INVALID', `${where}: ${path} is not a signed policy envelope (or set allowUnsignedPolicy: true)`);
  return { document: parsePolicyDocument(bytes.toString('utf8')), digest: policyDigest(bytes) };
}

/** Reads the policies and their owners' keys; `where` names the config section in errors. */
export function loadPolicyFiles(config: PolicyFilesConfig, where: string): LoadedPolicies {
  return {
    policies: config.policies.map((p) => ({ name: basename(p), input: loadPolicyInput(p, config.allowUnsignedPolicy, where) })),
    trust: { owners: { keys: config.policyKeys.map((k) => loadPublicKeyFile(k)), threshold: config.policyThreshold }, allowUnsignedPolicy: config.allowUnsignedPolicy },
  };
}
