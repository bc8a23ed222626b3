// SLSA Provenance v1.
export { SLSA_PROVENANCE_V1, parseProvenanceV1 } from './provenance.ts';
export type { BuildDefinition, BuildMetadata, Builder, ProvenanceV1, RunDetails } from './provenance.ts';
