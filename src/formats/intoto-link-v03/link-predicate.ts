// in-toto link predicate v0.3 (https://github.com/in-toto/attestation/blob/main/spec/predicates/link.md):
// a v0.9 link re-expressed as a Statement predicate; products are the statement's subjects.
import type { ResourceDescriptor } from '../../core/index.ts';
import {
  asRecord,
  optionalRecord,
  optionalResourceDescriptors,
  optionalStringArray,
  requiredString,
  type JsonRecord,
} from '../predicate-fields/index.ts';

export const LINK_PREDICATE_TYPE_V03 = 'https://in-toto.io/attestation/link/v0.3';

export interface LinkPredicateV03 {
  /** The step name (link.md: "name, required"). */
  name: string;
  command?: string[];
  materials?: ResourceDescriptor[];
  byproducts?: JsonRecord;
  environment?: JsonRecord;
  [extension: string]: unknown;
}

export function parseLinkPredicateV03(json: unknown, where = 'link predicate'): LinkPredicateV03 {
  const o = asRecord(json, where);
  const out: LinkPredicateV03 = { ...o, name: requiredString(o, 'name', where) };
  const command = optionalStringArray(o, 'command', where);
  if (command !== undefined) out.command = command;
  const materials = optionalResourceDescriptors(o, 'materials', where);
  if (materials !== undefined) out.materials = materials;
  const byproducts = optionalRecord(o, 'byproducts', where);
  if (byproducts !== undefined) out.byproducts = byproducts;
  const environment = optionalRecord(o, 'environment', where);
  if (environment !== undefined) out.environment = environment;
  return out;
}
