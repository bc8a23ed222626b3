// SLSA Provenance v1 statements for custody steps (https://slsa.dev/spec/v1.0/provenance), built
// from what the step runner observed. The predicate model is formats' ProvenanceV1.
import { makeStatement, type ResourceDescriptor, type Statement } from '../core/index.ts';
import { SLSA_PROVENANCE_V1, parseProvenanceV1, type ProvenanceV1 } from '../formats/index.ts';
import { BUILD_TYPE_RUN_V1, type RunExternalParameters, type RunInternalParameters } from './build-type.ts';

export interface ProvenanceInput {
  subjects: ResourceDescriptor[];
  external: RunExternalParameters;
  internal: RunInternalParameters;
  resolvedDependencies: ResourceDescriptor[];
  builderId: string;
  builderVersion?: Record<string, string>;
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  byproducts: ResourceDescriptor[];
}

/** provenance.md: Timestamp fields are RFC 3339 UTC; custody writes seconds precision. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function makeProvenance(input: ProvenanceInput): Statement<ProvenanceV1> {
  const predicate: ProvenanceV1 = {
    buildDefinition: {
      buildType: BUILD_TYPE_RUN_V1,
      externalParameters: { ...input.external },
      internalParameters: { ...input.internal },
      resolvedDependencies: input.resolvedDependencies,
    },
    runDetails: {
      builder: { id: input.builderId, ...(input.builderVersion === undefined ? {} : { version: input.builderVersion }) },
      metadata: { invocationId: input.invocationId, startedOn: timestamp(input.startedOn), finishedOn: timestamp(input.finishedOn) },
      byproducts: input.byproducts,
    },
  };
  // The strict parser is the check that what custody emits is what it accepts.
  parseProvenanceV1(JSON.parse(JSON.stringify(predicate)));
  return makeStatement(input.subjects, SLSA_PROVENANCE_V1, predicate);
}
