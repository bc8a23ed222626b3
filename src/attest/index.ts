// attest: running a supply chain step and recording what it used and made. So far: the artifact
// tree hasher behind `custody run` (in-toto materials and products, hashed in parallel).
export { recordArtifacts } from './tree-hasher.ts';
export type { ArtifactDigests, RecordOptions, RecordProgress } from './tree-hasher.ts';
export { createStatCache } from './stat-cache.ts';
export type { StatCache, StatCacheOptions } from './stat-cache.ts';
export { DEFAULT_EXCLUDE_PATTERNS, compileExcludePatterns } from './exclude-patterns.ts';
export type { ExcludeMatcher } from './exclude-patterns.ts';
export { normalizeArtifactPath } from './artifact-paths.ts';
export { createProgressLine, formatProgress, progressReporter } from './progress-line.ts';
export type { ProgressLine } from './progress-line.ts';
// Running a step (run-step.ts, written for `custody run`/`custody record`).
export { runStep, runCommand, linkToStatement, LINK_PREDICATE_V03 } from './run-step.ts';
export type { StepOptions, StepResult, CommandResult, RunCommandOptions } from './run-step.ts';
// The hermetic sandbox (bubblewrap) for build steps (sandbox.ts, issue 9).
export { DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_WORKDIR, bwrapArguments, runSandboxed, sandboxAvailable } from './sandbox.ts';
export type { SandboxInfo, SandboxResult, SandboxSpec } from './sandbox.ts';
