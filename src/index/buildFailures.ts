import { AsideError } from '../errors';

/** How long a failed index build is remembered before a search may try again. */
export const INDEX_RETRY_MS = 60_000;

/**
 * Remembers index builds that failed, so that for a while searches get a 503 with the cause at once
 * instead of each paying for another full build that will probably fail the same way.
 */
export class BuildFailures {
  private readonly failed = new Map<string, { cause: string; at: number }>();

  constructor(private readonly retryMs = INDEX_RETRY_MS) {}

  /** Throws the remembered failure of `key`, if it is recent. */
  check(key: string, what: string): void {
    const f = this.failed.get(key);
    if (!f) return;
    const left = f.at + this.retryMs - Date.now();
    if (left <= 0) {
      this.failed.delete(key);
      return;
    }
    throw this.error(what, f.cause, left);
  }

  /** Remembers a failure and returns the error to answer with. */
  record(key: string, what: string, err: unknown): AsideError {
    const cause = err instanceof Error ? err.message : String(err);
    this.failed.set(key, { cause, at: Date.now() });
    return this.error(what, cause, this.retryMs);
  }

  private error(what: string, cause: string, leftMs: number): AsideError {
    const retryAfterSeconds = Math.ceil(leftMs / 1000);
    return new AsideError('unavailable', `${what} failed to build: ${cause} (next attempt in ${retryAfterSeconds} s)`, { retryAfterSeconds });
  }
}
