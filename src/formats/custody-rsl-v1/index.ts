// The reference state log entry predicate https://custody.dev/rsl/v1 (schema in rsl-entry.schema.json).
export { RSL_PREDICATE_TYPE, parseRslEntryPredicate } from './rsl-entry.ts';
export type { RslEntryPredicate } from './rsl-entry.ts';
