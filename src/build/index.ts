// build: SLSA provenance for custody steps, hermetic step runs, and verified reproducible rebuilds
// (compare digests, diffoscope, VSA). Uses attest for running and hashing, formats for the models.
export {
  BUILD_TYPE_RUN_V1,
  BUILD_TYPE_SCHEMA_URI,
  HERMETIC_BUILDER_ID,
  UNSANDBOXED_BUILDER_ID,
  parseRunExternalParameters,
  parseRunInternalParameters,
} from './build-type.ts';
export type { RunExternalParameters, RunInternalParameters, RunSource } from './build-type.ts';
export { SANDBOX_PATH, runBuildStep } from './build-step.ts';
export type { BuildStepOptions, BuildStepResult } from './build-step.ts';
export { makeProvenance, timestamp } from './provenance.ts';
export type { ProvenanceInput } from './provenance.ts';
export { checkoutCommit, gitSource } from './git-source.ts';
export type { GitSource } from './git-source.ts';
export { npmLockDependencies } from './lockfile-deps.ts';
export { describeTool, resolveCommand } from './toolchain.ts';
export { runDiffoscope } from './diffoscope.ts';
export type { DiffoscopeReport } from './diffoscope.ts';
export {
  REBUILDER_ID,
  REBUILD_POLICY,
  REBUILD_POLICY_URI,
  REPRODUCED_LEVEL,
  checkRecordedTools,
  readProvenanceEnvelope,
  rebuild,
  rebuildPolicyDigest,
} from './rebuild.ts';
export type { ProvenanceToRebuild, RebuildOptions, RebuildResult, RebuildSource, SubjectComparison } from './rebuild.ts';
