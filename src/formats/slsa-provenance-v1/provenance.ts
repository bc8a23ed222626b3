// SLSA Provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance), parsed field by field.
import type { ResourceDescriptor } from '../../core/index.ts';
import {
  asRecord,
  optionalRecord,
  optionalResourceDescriptors,
  optionalString,
  optionalStringMap,
  optionalTimestamp,
  requiredRecord,
  requiredString,
  type JsonRecord,
} from '../predicate-fields/index.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

export interface BuildDefinition {
  buildType: string;
  externalParameters: JsonRecord;
  internalParameters?: JsonRecord;
  resolvedDependencies?: ResourceDescriptor[];
  [extension: string]: unknown;
}

export interface Builder {
  id: string;
  version?: Record<string, string>;
  builderDependencies?: ResourceDescriptor[];
  [extension: string]: unknown;
}

export interface BuildMetadata {
  invocationId?: string;
  startedOn?: string;
  finishedOn?: string;
  [extension: string]: unknown;
}

export interface RunDetails {
  builder: Builder;
  metadata?: BuildMetadata;
  byproducts?: ResourceDescriptor[];
  [extension: string]: unknown;
}

export interface ProvenanceV1 {
  buildDefinition: BuildDefinition;
  runDetails: RunDetails;
  [extension: string]: unknown;
}

function parseBuildDefinition(o: JsonRecord, where: string): BuildDefinition {
  const out: BuildDefinition = {
    ...o,
    buildType: requiredString(o, 'buildType', where),
    externalParameters: requiredRecord(o, 'externalParameters', where),
  };
  const internal = optionalRecord(o, 'internalParameters', where);
  if (internal !== undefined) out.internalParameters = internal;
  const deps = optionalResourceDescriptors(o, 'resolvedDependencies', where);
  if (deps !== undefined) out.resolvedDependencies = deps;
  return out;
}

function parseRunDetails(o: JsonRecord, where: string): RunDetails {
  const b = requiredRecord(o, 'builder', where);
  const builder: Builder = { ...b, id: requiredString(b, 'id', `${where}.builder`) };
  const version = optionalStringMap(b, 'version', `${where}.builder`);
  if (version !== undefined) builder.version = version;
  const deps = optionalResourceDescriptors(b, 'builderDependencies', `${where}.builder`);
  if (deps !== undefined) builder.builderDependencies = deps;
  const out: RunDetails = { ...o, builder };
  const m = optionalRecord(o, 'metadata', where);
  if (m !== undefined) {
    const mw = `${where}.metadata`;
    const metadata: BuildMetadata = { ...m };
    const invocationId = optionalString(m, 'invocationId', mw);
    const startedOn = optionalTimestamp(m, 'startedOn', mw);
    const finishedOn = optionalTimestamp(m, 'finishedOn', mw);
    if (invocationId !== undefined) metadata.invocationId = invocationId;
    if (startedOn !== undefined) metadata.startedOn = startedOn;
    if (finishedOn !== undefined) metadata.finishedOn = finishedOn;
    out.metadata = metadata;
  }
  const byproducts = optionalResourceDescriptors(o, 'byproducts', where);
  if (byproducts !== undefined) out.byproducts = byproducts;
  return out;
}

export function parseProvenanceV1(json: unknown, where = 'SLSA provenance'): ProvenanceV1 {
  const o = asRecord(json, where);
  return {
    ...o,
    buildDefinition: parseBuildDefinition(requiredRecord(o, 'buildDefinition', where), `${where}.buildDefinition`),
    runDetails: parseRunDetails(requiredRecord(o, 'runDetails', where), `${where}.runDetails`),
  };
}
