/**
 * Drives an Aside server with concurrent clients while a task is replaced over and over, and checks
 * every answer against the version the response says produced it. Used by `npm run loadtest:swap`
 * and by the swap test. Traffic goes only to the given (loopback) URL and is bounded in time.
 */
export interface SwapLoadOptions {
  url: string;
  apiKey: string;
  task: string;
  /** Task directories (relative to the server's models root), one per version, swapped in turn. */
  versionPaths: string[];
  clients: number;
  seconds: number;
}

export interface SwapLoadResult {
  requests: number;
  failed: number;
  inconsistent: number;
  swaps: number;
  p99_ms: number;
  p50_ms: number;
  versions_seen: string[];
}

const PROBES = ['swap probe one', 'a second probe about proteins', 'third: vitamin D and bone density'];

async function embed(url: string, task: string, text: string, inputType: 'query' | 'document'): Promise<{ version: string; vector: number[] }> {
  const res = await fetch(`${url}/v1/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [text], task, input_type: inputType }) });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return { version: res.headers.get('x-aside-task-version') ?? '', vector: ((await res.json()) as number[][])[0] };
}

async function put(opts: SwapLoadOptions, p: string): Promise<string> {
  const res = await fetch(`${opts.url}/v1/tasks/${opts.task}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.apiKey}` },
    body: JSON.stringify({ path: p }),
  });
  const body = (await res.json()) as { version?: string; error?: string };
  if (res.status !== 200) throw new Error(`swap to ${p} failed: HTTP ${res.status} ${body.error}`);
  return body.version!;
}

const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-4);

export async function runSwapLoad(opts: SwapLoadOptions): Promise<SwapLoadResult> {
  // Reference answers per version, taken with no load and no concurrency.
  const expected = new Map<string, Map<string, number[]>>();
  for (const p of opts.versionPaths) {
    const version = await put(opts, p);
    const m = new Map<string, number[]>();
    for (const text of PROBES) for (const t of ['query', 'document'] as const) m.set(`${t}:${text}`, (await embed(opts.url, opts.task, text, t)).vector);
    expected.set(version, m);
  }
  const latencies: number[] = [];
  const seen = new Set<string>();
  let failed = 0;
  let inconsistent = 0;
  let swaps = 0;
  const deadline = Date.now() + opts.seconds * 1000;

  const client = async (c: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const text = PROBES[(c + i) % PROBES.length];
      const type = (c + i) % 2 ? 'query' : 'document';
      const t0 = performance.now();
      try {
        const r = await embed(opts.url, opts.task, text, type);
        latencies.push(performance.now() - t0);
        seen.add(r.version);
        const want = expected.get(r.version)?.get(`${type}:${text}`);
        if (!want || !close(want, r.vector)) inconsistent++;
      } catch {
        failed++;
      }
    }
  };
  const swapper = async () => {
    for (let i = 0; Date.now() < deadline; i++) {
      await put(opts, opts.versionPaths[i % opts.versionPaths.length]);
      swaps++;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.all([swapper(), ...Array.from({ length: opts.clients }, (_, c) => client(c))]);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 10) / 10;
  return { requests: latencies.length + failed, failed, inconsistent, swaps, p99_ms: pct(0.99), p50_ms: pct(0.5), versions_seen: [...seen].sort() };
}
