// Field readers shared by the predicate parsers (one folder per predicate type beside this one).
export {
  asRecord,
  isRecord,
  isRfc3339,
  optionalArray,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalList,
  optionalRecord,
  optionalResourceDescriptors,
  optionalString,
  optionalStringArray,
  optionalStringMap,
  optionalTimestamp,
  predicateError,
  requiredEnum,
  requiredRecord,
  requiredString,
  requiredTimestamp,
  resourceDescriptor,
} from './fields.ts';
export type { JsonRecord } from './fields.ts';
