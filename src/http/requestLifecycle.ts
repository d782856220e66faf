import { Request, RequestHandler } from 'express';
import { AsideError } from '../errors';
import { RequestScope, runInScope } from '../inference/requestScope';
import { errorHandler } from './errors';

/** One line of `/ready`: `ok: false` on a gating check makes the server not ready. */
export interface ReadinessCheck {
  ok: boolean;
  /** False for checks that are reported but must not take the server out of rotation. */
  gating?: boolean;
  [detail: string]: unknown;
}

/** Probes and scrapes are answered even while draining, and never time out. */
const UNMANAGED = new Set(['/health', '/ready', '/metrics']);

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * A request's own timeout, from (first found) the `X-Request-Timeout` header, the `timeout` query
 * parameter or the body's `timeout`: a number of milliseconds or a duration with a unit ("500ms",
 * "30s", "1m", the form Elasticsearch uses). It may shorten the server's limit, never lengthen it.
 */
export function requestTimeoutMs(req: Request, serverMs: number): number {
  const raw = req.header('x-request-timeout') ?? req.query.timeout ?? (req.body as { timeout?: unknown } | undefined)?.timeout;
  if (raw === undefined) return serverMs;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(String(raw));
  if (!m || (typeof raw !== 'string' && typeof raw !== 'number'))
    throw new AsideError('validation', `timeout must be milliseconds or a duration such as "500ms", "30s" or "1m"; got ${JSON.stringify(raw)}`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
  if (ms <= 0) throw new AsideError('validation', 'timeout must be positive');
  return serverMs > 0 ? Math.min(ms, serverMs) : ms;
}

interface DeadlineLocals {
  applyBodyTimeout?: () => void;
}

/** After a route parsed its body: the body's `timeout` (if any, and no header or query gave one) shortens the deadline. */
export const bodyTimeout: RequestHandler = (_req, res, next) => {
  try {
    (res.locals as DeadlineLocals).applyBodyTimeout?.();
    next();
  } catch (err) {
    next(err);
  }
};

/**
 * Every request's lifetime on the server: its deadline (answered 504 when it passes), its
 * cancellation (the client left: its queued rows are dropped), the count of requests in flight
 * (what a graceful shutdown waits for) and the draining state (new requests get 503).
 */
export class RequestLifecycle {
  private active = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly checks = new Map<string, () => ReadinessCheck>();

  constructor(readonly serverTimeoutMs: number) {}

  get inflight(): number {
    return this.active;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Adds a line to `/ready` (e.g. Elasticsearch's circuit state). */
  addCheck(name: string, check: () => ReadinessCheck): void {
    this.checks.set(name, check);
  }

  extraChecks(): Record<string, ReadinessCheck> {
    return Object.fromEntries([...this.checks].map(([name, f]) => [name, f()]));
  }

  startDraining(): void {
    this.draining = true;
  }

  /** Resolves true once no request is in flight, or false when `ms` pass first. */
  whenIdle(ms: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      if (UNMANAGED.has(req.path)) return next();
      if (this.draining) {
        res.setHeader('Connection', 'close');
        return next(new AsideError('unavailable', 'the server is shutting down and takes no new requests', { retryAfterSeconds: 1 }));
      }
      // Task loads (admin) may take minutes (validation, probe, a new index): only their own timeout applies.
      const serverMs = req.path.startsWith('/v1/tasks') ? 0 : this.serverTimeoutMs;
      let timeoutMs: number;
      try {
        timeoutMs = requestTimeoutMs(req, serverMs);
      } catch (err) {
        return next(err);
      }
      const controller = new AbortController();
      const scope: RequestScope = { signal: controller.signal };
      let timer: NodeJS.Timeout | undefined;
      const setDeadline = (ms: number) => {
        clearTimeout(timer);
        if (ms <= 0) return;
        scope.deadline = Date.now() + ms;
        timer = setTimeout(() => {
          const err = new AsideError('timeout', `the request did not complete within its deadline of ${ms} ms`, { timeout_ms: ms });
          controller.abort(err);
          if (!res.headersSent) errorHandler(err, req, res, () => undefined);
        }, ms);
      };
      setDeadline(timeoutMs);
      // Bodies are parsed per route, after this: a `timeout` in the body applies once it is read.
      (res.locals as DeadlineLocals).applyBodyTimeout = () => {
        if (req.header('x-request-timeout') !== undefined || req.query.timeout !== undefined) return;
        if ((req.body as { timeout?: unknown } | undefined)?.timeout === undefined) return;
        setDeadline(requestTimeoutMs(req, serverMs));
      };
      this.active++;
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) controller.abort(new AsideError('unavailable', 'the client closed the connection'));
        if (--this.active === 0) this.idleWaiters.splice(0).forEach((f) => f());
      });
      runInScope(scope, () => next());
    };
  }
}
