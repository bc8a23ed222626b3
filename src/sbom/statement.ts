// An SBOM as the predicate of an in-toto Statement v1 (in-toto attestation predicate types for
// CycloneDX and SPDX, https://github.com/in-toto/attestation/tree/main/spec/predicates).
import { makeStatement, type ResourceDescriptor, type Statement } from '../core/index.ts';

export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';
export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document';

export function sbomStatement(subject: ResourceDescriptor[], format: 'cyclonedx' | 'spdx', sbomText: string): Statement {
  const predicate = JSON.parse(sbomText) as Record<string, unknown>;
  return makeStatement(subject, format === 'cyclonedx' ? CYCLONEDX_PREDICATE_TYPE : SPDX_PREDICATE_TYPE, predicate);
}
