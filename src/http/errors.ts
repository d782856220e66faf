import { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError, ZodType } from 'zod';
import { AsideError } from '../errors';
import { log } from '../log';

/** Validates a body against a schema; failures become one 400 with every problem listed. */
export function parseBody<T>(schema: ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw zodError(r.error);
  return r.data;
}

function zodError(e: ZodError): AsideError {
  return new AsideError('validation', e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
}

/** The one mapping from errors to HTTP responses: `{error, error_type}` with the error's status. */
export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  // Already answered (e.g. 504 at the deadline): the late outcome has no one to go to.
  if (res.headersSent) return;
  let e: AsideError;
  if (err instanceof AsideError) e = err;
  else if (err?.type === 'entity.parse.failed') e = new AsideError('validation', `request body is not valid JSON: ${err.message}`);
  else if (err?.type === 'entity.too.large') e = new AsideError('payload_too_large', `request body is larger than ${err.limit} bytes`);
  else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) e = new AsideError('validation', String(err.message));
  else {
    log.error({ err: err?.stack ?? String(err) }, 'unhandled error');
    e = new AsideError('internal', 'internal error');
  }
  if (e.type === 'overloaded' || e.details?.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(e.details?.retryAfterSeconds ?? 1));
  res.status(e.status).json({ error: e.message, error_type: e.type, ...(e.details ?? {}) });
};

/** Routes are async; this passes their rejections to the error handler (Express 5 does too, but explicitly is clearer). */
export const wrap =
  (fn: (...a: Parameters<RequestHandler>) => Promise<unknown>): RequestHandler =>
  (req, res, next) => {
    fn(req, res, next).catch(next);
  };
