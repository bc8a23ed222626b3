// OpenVEX 0.2.0.
export { OPENVEX_CONTEXT_V020, VEX_JUSTIFICATIONS, VEX_STATUSES, isOpenVexPredicateType, parseOpenVex } from './openvex.ts';
export type { OpenVexDocument, VexJustification, VexProduct, VexStatement, VexStatus } from './openvex.ts';
