import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, Served } from '../bench/lib/procs';
import { REPO_ROOT } from '../src/paths';
import { post } from './helpers/server';

/** A loopback port nothing listens on: Elasticsearch "configured but down". */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** GET /ready's body. */
const readiness = async (url: string): Promise<any> => (await fetch(`${url}/ready`)).json();

async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20));
}

/** `aside serve` as a real process, as a user (or Kubernetes) runs it. */
describe('aside serve, a real process', () => {
  let served: Served;
  let exit: Promise<number | null>;
  let logs = '';
  beforeAll(async () => {
    const tasks = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-tasks-'));
    served = await startServer(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'src', 'cli.ts'), 'serve', '--port', '0', '--tasks-dir', tasks], {
      cwd: REPO_ROOT,
      env: {
        ASIDE_WORKERS: '1',
        ASIDE_MAX_BATCH: '8',
        ASIDE_ES_URL: `http://127.0.0.1:${await closedPort()}`,
        ASIDE_ES_BREAKER_MS: '600000',
        ASIDE_SHUTDOWN_GRACE_MS: '300000',
        // Drain is what is tested here, not deadlines: a busy machine must not turn slow requests into 504s.
        ASIDE_REQUEST_TIMEOUT_MS: '0',
        ASIDE_LOG_LEVEL: 'info',
      },
      portFrom: (line) => {
        const m = /"msg":"listening"/.test(line) && /"url":"http:\/\/[^:]+:(\d+)"/.exec(line);
        return m ? Number(m[1]) : undefined;
      },
    });
    served.proc.stdout!.on('data', (d) => (logs += d));
    exit = new Promise((r) => served.proc.once('exit', (code) => r(code)));
  }, 180_000);
  afterAll(() => served?.stop());

  it('fails fast while Elasticsearch is down (circuit breaker) and says so in /ready', async () => {
    const ready0 = await readiness(served.url);
    expect(ready0.checks.elasticsearch).toEqual({ ok: true, gating: false, state: 'closed' });
    const body = { query: 'protein folding', candidates: 'elasticsearch' };
    const first = await post(`${served.url}/v1/search`, body);
    expect(first.status).toBe(503);
    expect(first.json).toMatchObject({ error_type: 'unavailable', cause: 'connection' });
    const second = await post(`${served.url}/v1/search`, body);
    expect(second.status).toBe(503);
    expect(second.json).toMatchObject({ error_type: 'unavailable', cause: 'circuit_open', error: expect.stringMatching(/circuit open/) });
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    const ready = await fetch(`${served.url}/ready`);
    // Reported, not gating: dense search still works, and every replica shares the cluster.
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks.elasticsearch).toMatchObject({ ok: false, gating: false, state: 'open', last_error: expect.stringMatching(/unreachable/) });
    const dense = await post(`${served.url}/v1/embed`, { inputs: 'dense still serves' });
    expect(dense.status).toBe(200);
  });

  it('on SIGTERM stops admitting, finishes every request in flight, then exits 0', async () => {
    const texts = Array.from({ length: 16 }, (_, i) => `text ${i} ` + 'long evidence about cell biology '.repeat(12));
    let done = 0;
    const inflight = Array.from({ length: 16 }, () =>
      post(`${served.url}/v1/embed`, { inputs: texts })
        .catch((err: Error) => ({ status: 0, json: err.message, headers: new Headers() }))
        .finally(() => done++),
    );
    // Every request has reached the server (running, or already answered) before the signal.
    await waitFor(async () => (await readiness(served.url)).checks.shutdown.inflight_requests + done >= 16);
    served.proc.kill('SIGTERM');
    await waitFor(async () => logs.includes('draining in-flight requests'));
    const late = await post(`${served.url}/v1/embed`, { inputs: 'too late' }).catch((err: Error) => ({ status: 0, json: err.message }));
    expect(late.status).not.toBe(200);
    if (late.status) expect(late).toMatchObject({ status: 503, json: { error_type: 'unavailable', error: expect.stringMatching(/shutting down/) } });
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual(new Array(16).fill(200));
    expect(results.every((r) => Array.isArray(r.json) && r.json.length === 16)).toBe(true);
    expect(await exit).toBe(0);
  });
});
