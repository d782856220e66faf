import { AsideError } from '../../errors';
import { log } from '../../log';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** True for failures that say the dependency is unreachable, not that one request was bad. */
function isOutage(err: unknown): boolean {
  if (!(err instanceof AsideError) || err.type !== 'unavailable') return false;
  const cause = err.details?.cause;
  return cause === 'connection' || cause === 'timeout' || err.details?.es_status !== undefined;
}

/**
 * Fails fast while a dependency is down. After an outage-type failure (connection refused, timeout,
 * 502/503/504) the circuit opens: calls fail at once with 503 for `cooldownMs`, instead of each
 * waiting for the client's retries. Then one call probes (half-open): success closes the circuit,
 * failure opens it again. Other calls during the probe still fail fast.
 */
export class CircuitBreaker {
  private state_: CircuitState = 'closed';
  private openedAt = 0;
  private lastError = '';
  private probing = false;

  constructor(
    readonly name: string,
    readonly cooldownMs: number,
  ) {}

  get state(): CircuitState {
    if (this.state_ === 'open' && Date.now() - this.openedAt >= this.cooldownMs) return 'half-open';
    return this.state_;
  }

  describe(): { state: CircuitState; last_error?: string; retry_in_ms?: number } {
    const state = this.state;
    if (state === 'closed') return { state };
    return { state, last_error: this.lastError, ...(state === 'open' ? { retry_in_ms: this.cooldownMs - (Date.now() - this.openedAt) } : {}) };
  }

  async call<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) {
      const retry = Math.max(1, Math.ceil((this.cooldownMs - (Date.now() - this.openedAt)) / 1000));
      throw new AsideError('unavailable', `${this.name} is unreachable (circuit open; last error: ${this.lastError})`, { cause: 'circuit_open', retryAfterSeconds: retry });
    }
    const probe = state === 'half-open';
    if (probe) this.probing = true;
    try {
      const v = await fn();
      if (this.state_ !== 'closed') log.info({ dependency: this.name }, 'dependency reachable again; circuit closed');
      this.state_ = 'closed';
      return v;
    } catch (err) {
      if (isOutage(err)) {
        if (this.state_ === 'closed') log.warn({ dependency: this.name, err: (err as Error).message, cooldownMs: this.cooldownMs }, 'dependency unreachable; circuit open');
        this.state_ = 'open';
        this.openedAt = Date.now();
        this.lastError = (err as Error).message;
      }
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }
}
