// Limits that keep CEL evaluation bounded whatever the attestations contain. @bufbuild/cel has no
// cost tracking of its own (0.6.1), so custody meters evaluation itself (see cel-environment.ts).

export interface CelLimits {
  /** Characters of one rule's source text. */
  readonly maxExpressionLength: number;
  /** AST nodes of one rule after macro expansion. */
  readonly maxExpressionNodes: number;
  /** Nesting depth of an attestation's JSON (objects and lists). */
  readonly maxInputDepth: number;
  /** JSON values (objects, lists, scalars) in one attestation's statement. */
  readonly maxInputNodes: number;
  /** Characters of all strings (keys and values) in one attestation's statement. */
  readonly maxInputStringChars: number;
  /**
   * Cost units one rule evaluation may spend: one per comprehension iteration, the length of the
   * shorter operand of each string/bytes/list concatenation, and the input size of each helper.
   */
  readonly maxCost: number;
}

export const DEFAULT_CEL_LIMITS: CelLimits = {
  maxExpressionLength: 4096,
  maxExpressionNodes: 1000,
  maxInputDepth: 32,
  maxInputNodes: 200_000,
  maxInputStringChars: 8 * 1024 * 1024,
  maxCost: 1_000_000,
};
