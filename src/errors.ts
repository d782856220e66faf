/**
 * The one error type that crosses module boundaries. `status` and `type` map straight onto the
 * HTTP response `{error, error_type}`, so call sites never build status codes themselves.
 */
export type ErrorType = 'validation' | 'not_found' | 'unauthorized' | 'conflict' | 'payload_too_large' | 'overloaded' | 'unavailable' | 'timeout' | 'internal';

const STATUS: Record<ErrorType, number> = {
  validation: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  overloaded: 429,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

export class AsideError extends Error {
  readonly status: number;
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.status = STATUS[type];
  }
}

export const badRequest = (msg: string, details?: Record<string, unknown>) => new AsideError('validation', msg, details);
export const notFound = (msg: string, details?: Record<string, unknown>) => new AsideError('not_found', msg, details);
