// The variables CEL rules may use (docs/policy.md "Rule variables").

/** Per-attestation rules and `when` selectors. */
export const ATTESTATION_VARIABLES = ['predicateType', 'predicate', 'subject', 'signers', 'functionaries', 'attestation', 'artifact', 'now', 'step'] as const;
/** Aggregate rules, evaluated once per step or requirement. */
export const AGGREGATE_VARIABLES = ['attestations', 'steps', 'artifact', 'now', 'step'] as const;
