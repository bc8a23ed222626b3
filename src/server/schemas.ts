// JSON schemas of the API (request validation and the OpenAPI document at /docs).
export const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  additionalProperties: true,
} as const;

export const namespaceSchema = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', default: 'default', description: 'Namespace (default: "default")' } as const;

const signatureSchema = {
  type: 'object',
  required: ['sig'],
  properties: { sig: { type: 'string' }, keyid: { type: 'string' } },
} as const;

/** DSSE envelope (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md). */
export const envelopeSchema = {
  type: 'object',
  required: ['payload', 'payloadType', 'signatures'],
  properties: {
    payload: { type: 'string' },
    payloadType: { type: 'string' },
    signatures: { type: 'array', minItems: 1, items: signatureSchema },
  },
} as const;

/** Sigstore bundle v0.3 holding a DSSE envelope. */
export const bundleSchema = {
  type: 'object',
  required: ['mediaType', 'dsseEnvelope'],
  properties: { mediaType: { type: 'string' }, dsseEnvelope: envelopeSchema },
} as const;

export const documentSchema = { anyOf: [envelopeSchema, bundleSchema] } as const;

export const digestSetSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const verificationSchema = {
  type: 'object',
  required: ['status', 'keyids'],
  properties: {
    status: { type: 'string', enum: ['verified', 'unverified'] },
    keyids: { type: 'array', items: { type: 'string' } },
    code: { type: 'string' },
  },
} as const;

export const summarySchema = {
  type: 'object',
  required: ['id', 'namespace', 'mediaType', 'payloadType', 'predicateType', 'subjects', 'materials', 'verification', 'claimedKeyids', 'size', 'createdAt'],
  properties: {
    id: { type: 'string', description: 'sha256 hex of the stored bytes' },
    namespace: { type: 'string' },
    mediaType: { type: 'string' },
    payloadType: { type: 'string' },
    predicateType: { type: 'string' },
    step: { type: 'string' },
    subjects: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, digest: digestSetSchema } } },
    materials: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, uri: { type: 'string' }, digest: digestSetSchema } } },
    verification: verificationSchema,
    claimedKeyids: { type: 'array', items: { type: 'string' } },
    size: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const putResultSchema = {
  type: 'object',
  required: ['id', 'namespace', 'created', 'createdAt', 'predicateType', 'verification'],
  properties: {
    id: { type: 'string' },
    namespace: { type: 'string' },
    created: { type: 'boolean', description: 'false when these exact bytes were already stored' },
    createdAt: { type: 'string', format: 'date-time' },
    predicateType: { type: 'string' },
    step: { type: 'string' },
    subjects: summarySchema.properties.subjects,
    verification: verificationSchema,
  },
} as const;

export const tokenRecordSchema = {
  type: 'object',
  required: ['id', 'role', 'namespaces', 'description', 'createdAt', 'createdBy', 'expiresAt', 'revokedAt'],
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    namespaces: { type: 'array', items: { type: 'string' } },
    description: { type: 'string' },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    expiresAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
  },
} as const;

export const auditEntrySchema = {
  type: 'object',
  required: ['seq', 'at', 'actor', 'action', 'namespace', 'target', 'outcome', 'status', 'detail', 'prevHash', 'hash'],
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    namespace: { type: ['string', 'null'] },
    target: { type: ['string', 'null'] },
    outcome: { type: 'string', enum: ['allowed', 'denied', 'failed'] },
    status: { type: 'integer' },
    detail: { type: 'object', additionalProperties: true },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
} as const;

export const errorResponses = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 413: errorSchema, 415: errorSchema, 422: errorSchema, 429: errorSchema } as const;
