import { Request, RequestHandler } from 'express';
import { AsideError } from '../errors';
import { runInScope } from '../inference/requestScope';
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
      let timeoutMs: number;
      try {
        // Task loads (admin) may take minutes (validation, probe, a new index): only their own timeout applies.
        timeoutMs = requestTimeoutMs(req, req.path.startsWith('/v1/tasks') ? 0 : this.serverTimeoutMs);
      } catch (err) {
        return next(err);
      }
      const controller = new AbortController();
      this.active++;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              const err = new AsideError('timeout', `the request did not complete within its deadline of ${timeoutMs} ms`, { timeout_ms: timeoutMs });
              controller.abort(err);
              if (!res.headersSent) errorHandler(err, req, res, () => undefined);
            }, timeoutMs)
          : undefined;
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) controller.abort(new AsideError('unavailable', 'the client closed the connection'));
        if (--this.active === 0) this.idleWaiters.splice(0).forEach((f) => f());
      });
      runInScope({ signal: controller.signal, deadline: timeoutMs > 0 ? Date.now() + timeoutMs : undefined }, () => next());
    };
  }
}
