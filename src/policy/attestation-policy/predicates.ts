// Built-in knowledge of the standard predicate types: which parser checks a predicate before rules
// see it, and which resource descriptors are its materials for artifact rules (ITE-11: products are
// the statement's subjects). An explicit list, not a registry filled by imports (STYLE.md §4).
import type { ResourceDescriptor } from '../../core/index.ts';
import {
  INTOTO_TEST_RESULT_V01,
  INTOTO_VULNS_V01,
  LINK_PREDICATE_TYPE_V03,
  REVIEW_PREDICATE_TYPE,
  SLSA_PROVENANCE_V1,
  SLSA_VSA_V1,
  isCycloneDxPredicateType,
  isOpenVexPredicateType,
  isSpdxPredicateType,
  parseCycloneDxBom,
  parseLinkPredicateV03,
  parseOpenVex,
  parseProvenanceV1,
  parseReviewPredicate,
  parseSpdxDocument,
  parseTestResultV01,
  parseVsaV1,
  parseVulnsV01,
} from '../../formats/index.ts';

export interface PredicateKnowledge {
  readonly name: string;
  matches(predicateType: string): boolean;
  /** Strict parse; throws InputError PREDICATE_INVALID. Returns the JSON-shaped model rules see. */
  parse(predicate: unknown): object;
  /** Inputs the attestation reports (artifact rules' materials). */
  materials?(parsed: object): readonly ResourceDescriptor[];
  /** The step the predicate says it records (the link predicate's `name`). */
  stepName?(parsed: object): string;
}

const exact = (type: string) => (t: string) => t === type;

export const STANDARD_PREDICATES: readonly PredicateKnowledge[] = [
  {
    name: 'in-toto link v0.3',
    matches: exact(LINK_PREDICATE_TYPE_V03),
    parse: (p) => parseLinkPredicateV03(p),
    materials: (p) => (p as ReturnType<typeof parseLinkPredicateV03>).materials ?? [],
    stepName: (p) => (p as ReturnType<typeof parseLinkPredicateV03>).name,
  },
  {
    name: 'SLSA provenance v1',
    matches: exact(SLSA_PROVENANCE_V1),
    parse: (p) => parseProvenanceV1(p),
    materials: (p) => (p as ReturnType<typeof parseProvenanceV1>).buildDefinition.resolvedDependencies ?? [],
  },
  { name: 'SLSA verification summary v1', matches: exact(SLSA_VSA_V1), parse: (p) => parseVsaV1(p) },
  { name: 'CycloneDX BOM', matches: isCycloneDxPredicateType, parse: (p) => parseCycloneDxBom(p) },
  { name: 'SPDX document', matches: isSpdxPredicateType, parse: (p) => parseSpdxDocument(p) },
  { name: 'in-toto vulns v0.1', matches: exact(INTOTO_VULNS_V01), parse: (p) => parseVulnsV01(p) },
  { name: 'OpenVEX 0.2.0', matches: isOpenVexPredicateType, parse: (p) => parseOpenVex(p) },
  {
    name: 'in-toto test-result v0.1',
    matches: exact(INTOTO_TEST_RESULT_V01),
    parse: (p) => parseTestResultV01(p),
    materials: (p) => (p as ReturnType<typeof parseTestResultV01>).configuration,
  },
  { name: 'custody review v1', matches: exact(REVIEW_PREDICATE_TYPE), parse: (p) => parseReviewPredicate(p) },
];

export function predicateKnowledge(
  predicateType: string,
  known: readonly PredicateKnowledge[] = STANDARD_PREDICATES,
): PredicateKnowledge | undefined {
  return known.find((k) => k.matches(predicateType));
}
