// OSV vulnerability records (https://ossf.github.io/osv-schema/).
export { parseOsvRecord } from './osv.ts';
export type { OsvAffected, OsvEvent, OsvRange, OsvRangeType, OsvRecord, OsvSeverity } from './osv.ts';
