// The one place where errors become HTTP responses (STYLE.md §8, hono's app.onError): custody's
// typed errors by class, the server's own ApiErrors by their status, fastify's transport errors by
// their code. Anything else is a bug: 500 with a generic message, details only in the log.
import { InputError, PolicyError, VerificationError, isCustodyError } from '../core/index.ts';

export type ApiErrorCode =
  | 'UNAUTHENTICATED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'JWT_INVALID'
  | 'ISSUER_UNKNOWN'
  | 'CERT_UNTRUSTED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BATCH_INVALID'
  | 'BODY_TOO_LARGE'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'RATE_LIMITED'
  | 'REQUEST_TIMEOUT'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'AUDIENCE_MISMATCH'
  | 'ALGORITHM_REFUSED'
  | 'PROOF_OF_POSSESSION_FAILED'
  | 'IDENTITY_UNMAPPED';

/** An error the HTTP layer itself raises, with its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  /** Extra fields for the response body. */
  readonly details: Record<string, unknown> | undefined;
  /** Who to name in the audit entry for this refusal, when known (never sent to the client). */
  readonly auditActor: string | undefined;

  constructor(status: number, code: ApiErrorCode, message: string, options: { details?: Record<string, unknown>; auditActor?: string } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.auditActor = options.auditActor;
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  [extra: string]: unknown;
}

// fastify's own error codes for requests it refuses before a handler runs.
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'MEDIA_TYPE_UNSUPPORTED' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INPUT_INVALID' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'JSON_INVALID' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'JSON_INVALID' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'MEDIA_TYPE_UNSUPPORTED' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'MEDIA_TYPE_UNSUPPORTED' },
  FST_ERR_BAD_URL: { status: 400, code: 'INPUT_INVALID' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'INPUT_INVALID' },
};

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** True for 5xx: the server, not the client, is at fault; log it. */
  serverFault: boolean;
}

function fieldOf(error: unknown, field: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[field] : undefined;
}

export function mapError(error: unknown): MappedError {
  if (error instanceof ApiError) {
    return { status: error.status, body: { code: error.code, message: error.message, ...error.details }, serverFault: error.status >= 500 };
  }
  if (isCustodyError(error)) {
    // InputError: the request was malformed. Verification/Policy: well-formed but unacceptable.
    const status = error instanceof InputError ? 400 : error instanceof VerificationError || error instanceof PolicyError ? 422 : 400;
    return { status, body: { code: error.code, message: error.message }, serverFault: false };
  }
  // fastify schema validation (ajv) of params, query string and body.
  if (Array.isArray(fieldOf(error, 'validation'))) {
    return { status: 400, body: { code: 'INPUT_INVALID', message: String(fieldOf(error, 'message')) }, serverFault: false };
  }
  const code = fieldOf(error, 'code');
  const known = typeof code === 'string' ? FASTIFY_CODES[code] : undefined;
  if (known !== undefined) return { status: known.status, body: { code: known.code, message: String(fieldOf(error, 'message')) }, serverFault: false };
  const statusCode = fieldOf(error, 'statusCode');
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Any other client error fastify or a plugin raised: keep the status, name it generically.
    return { status: statusCode, body: { code: 'INPUT_INVALID', message: String(fieldOf(error, 'message')) }, serverFault: false };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal server error' }, serverFault: true };
}
