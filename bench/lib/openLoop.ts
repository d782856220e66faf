/** One request's outcome in an open-loop run. */
export interface Outcome {
  status: number;
  ms: number;
}

/**
 * Open-loop load: requests leave at a fixed rate whatever the server does (closed-loop clients slow
 * down with the server and so never overload it). Status 0 = the client gave up (abortAfterMs) or the
 * connection failed.
 */
export async function openLoop(url: string, bodies: string[], ratePerSec: number, seconds: number, abortAfterMs = 60_000): Promise<Outcome[]> {
  const out: Promise<Outcome>[] = [];
  const t0 = performance.now();
  const total = Math.max(1, Math.round(ratePerSec * seconds));
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / ratePerSec;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    out.push(send(url, bodies[i % bodies.length], abortAfterMs));
  }
  return Promise.all(out);
}

export async function send(url: string, body: string, abortAfterMs = 60_000): Promise<Outcome> {
  const t = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(abortAfterMs) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t };
  } catch {
    return { status: 0, ms: performance.now() - t };
  }
}

/** Sequential requests for `seconds`, or until `count` are answered: the latency a lone client sees. */
export async function serial(url: string, bodies: string[], seconds: number, count = Infinity): Promise<number[]> {
  const ms: number[] = [];
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end && ms.length < count; i++) {
    const o = await send(url, bodies[i % bodies.length]);
    if (o.status === 200) ms.push(o.ms);
  }
  return ms;
}

/**
 * Closed-loop throughput: `clients` each send the next request when the last one is answered, until
 * `seconds` have passed; requests still running then are waited for and counted.
 */
export async function closedLoop(url: string, bodies: string[], clients: number, seconds: number): Promise<{ rps: number; ms: number[] }> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const ms: number[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const o = await send(url, bodies[i++ % bodies.length]);
        if (o.status === 200) ms.push(o.ms);
      }
    }),
  );
  return { rps: ms.length / ((performance.now() - t0) / 1000), ms };
}
