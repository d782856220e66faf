import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

/**
 * Closed-loop HTTP load with autocannon: `connections` clients, each with one request in flight,
 * cycling through `bodies`; bounded by `seconds`, or by `amount` requests when given (autocannon then
 * ignores the duration, so an amount must be small).
 */
export async function load(url: string, bodies: string[], connections: number, seconds: number, amount?: number): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  } as autocannon.Options);
  const ok = result.requests.total - result.non2xx;
  const secs = (result.finish.getTime() - result.start.getTime()) / 1000;
  return { requests: result.requests.total, errors: result.errors + result.non2xx + result.timeouts, rps: ok / secs, p50: result.latency.p50, p99: result.latency.p99 };
}
