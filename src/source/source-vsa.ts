// The source VSA: SLSA VSA v1 as the SLSA source track uses it (slsa.dev/spec/v1.2 "Verifying
// source"): the subject is the verified revision (gitCommit digest, the repository URI, and the
// refs it was verified for in annotations.source_refs); verifiedLevels lists the source levels
// and custody controls met.
import { IN_TOTO_PAYLOAD_TYPE, makeStatement, signEnvelope, type Envelope, type Signer, type Statement } from '../core/index.ts';
import { SLSA_VSA_V1, makeVsaPredicate, type VsaPredicateV1 } from '../formats/index.ts';
import type { SourceVerification } from './verify-history.ts';

export const SOURCE_VERIFIER_ID = 'https://custody.dev/source-verifier/v1';

export interface SourceVsaOptions {
  repoUri: string;
  policyUri?: string;
  verifierVersion?: string;
  time?: Date;
}

export function sourceVsaStatement(result: SourceVerification, policyDigest: string, options: SourceVsaOptions): Statement<VsaPredicateV1> {
  const predicate = makeVsaPredicate({
    verifierId: SOURCE_VERIFIER_ID,
    ...(options.verifierVersion === undefined ? {} : { verifierVersion: { custody: options.verifierVersion } }),
    timeVerified: options.time ?? new Date(),
    resourceUri: options.repoUri,
    policy: { digest: { sha256: policyDigest }, ...(options.policyUri === undefined ? {} : { uri: options.policyUri }) },
    inputAttestations: [],
    passed: result.passed,
    verifiedLevels: result.passed ? [...result.levels] : [],
    slsaVersion: '1.2',
  });
  return makeStatement([{ uri: options.repoUri, digest: { gitCommit: result.tip }, annotations: { source_refs: [result.ref] } }], SLSA_VSA_V1, predicate);
}

export async function signSourceVsa(result: SourceVerification, policyDigest: string, signer: Signer, options: SourceVsaOptions): Promise<Envelope> {
  const statement = sourceVsaStatement(result, policyDigest, options);
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [signer]);
}
