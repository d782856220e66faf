import http from 'node:http';
import { post, startServer, TestServer } from './helpers/server';
import { schedulerFor } from '../src/inference/scheduler';
import { DEFAULT_LIMITS } from '../src/inference/batchQueue';

/** A raw request, for what fetch cannot send (invalid UTF-8, oversized headers). */
function raw(url: string, opts: { path: string; body?: Buffer; headers?: Record<string, string> }): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${opts.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...opts.headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const longTexts = (n: number, words = 200) => Array.from({ length: n }, (_, i) => `document ${i} ` + 'evidence about protein folding and cell biology '.repeat(words / 7));

async function waitFor(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 10));
}

describe('serving: scheduler behaviour over real HTTP', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ collection: undefined, tasksDir: undefined, workers: 1, maxQueue: 64, maxBatch: 8 });
  }, 180_000);
  afterAll(() => s?.close());
  const scheduler = () => schedulerFor(s.app.backend, DEFAULT_LIMITS);

  it.each([
    ['whitespace only', '   '],
    ['a lone surrogate', '\ud800'],
    ['control and zero-width characters only', '\u0000\u200b\t'],
  ])('refuses a text that is empty after normalisation (%s) with 400, like ""', async (_name, text) => {
    const empty = await post(`${s.url}/v1/embed`, { inputs: '' });
    const r = await post(`${s.url}/v1/embed`, { inputs: ['a real sentence', text] });
    expect(empty.status).toBe(400);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: expect.stringMatching(/input 1 is empty after normalisation/), error_type: 'validation' });
    const q = await post(`${s.url}/v1/embed`, { inputs: text, input_type: 'query' });
    expect(q.status).toBe(400);
  });

  it('refuses invalid UTF-8 that decodes to nothing with 400', async () => {
    const body = Buffer.concat([Buffer.from('{"inputs": "'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const r = await raw(s.url, { path: '/v1/embed', body });
    expect(r).toEqual({ status: 400, json: { error: expect.stringMatching(/empty after normalisation/), error_type: 'validation' } });
  });

  it('names the real rerank limit when refusing too many documents', async () => {
    const max = s.app.config.maxRerankDocuments;
    const r = await post(`${s.url}/v1/rerank`, { query: 'q', texts: Array.from({ length: max + 1 }, (_, i) => `d${i}`) });
    expect(r.status).toBe(413);
    expect(r.json.error).toBe(`${max + 1} documents in one request; the limit is ${max}`);
  });

  it('answers oversized headers with 431 and a JSON {error, error_type} body', async () => {
    const r = await raw(s.url, { path: '/v1/embed', body: Buffer.from('{"inputs":"x"}'), headers: { 'x-padding': 'a'.repeat(64 * 1024) } });
    expect(r.status).toBe(431);
    expect(r.json).toEqual({ error: expect.stringMatching(/headers are larger than \d+ bytes/), error_type: 'payload_too_large' });
  });

  it('refuses at once with 429 and Retry-After when admitted rows would exceed the limit', async () => {
    const body = { inputs: longTexts(64) };
    const results = await Promise.all([1, 2, 3].map(() => post(`${s.url}/v1/embed`, body)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.json.error_type).toBe('overloaded');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/aside_scheduler_admissions_total\{result="refused"\} [1-9]/);
    expect(metrics).toMatch(/aside_scheduler_queued_rows 0/);
  });

  it('answers 504 when a request deadline (body timeout) passes, and drops its queued rows unrun', async () => {
    const dropped = async () => Number(/aside_scheduler_dropped_rows_total (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())![1]);
    const before = await dropped();
    const r = await post(`${s.url}/v1/embed`, { inputs: longTexts(64), timeout: '1ms' });
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ error_type: 'timeout', error: expect.stringMatching(/deadline/) });
    await waitFor(() => scheduler().snapshot().inflightRows === 0);
    expect(await dropped()).toBeGreaterThan(before);
    const ok = await post(`${s.url}/v1/embed`, { inputs: 'still serving' }, { 'x-request-timeout': '30s' });
    expect(ok.status).toBe(200);
  });

  it('refuses a malformed timeout with 400', async () => {
    const r = await post(`${s.url}/v1/embed`, { inputs: 'x', timeout: 'soon' });
    expect(r).toMatchObject({ status: 400, json: { error_type: 'validation', error: expect.stringMatching(/timeout must be/) } });
  });

  it('drops the queued rows of a client that disconnected', async () => {
    const gone = new AbortController();
    const req = fetch(`${s.url}/v1/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: longTexts(64) }), signal: gone.signal }).catch(
      () => undefined,
    );
    await waitFor(() => scheduler().snapshot().queuedRows > 0);
    gone.abort();
    await req;
    await waitFor(() => scheduler().snapshot().queuedRows === 0 && scheduler().snapshot().inflightRows === 0);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(Number(/aside_scheduler_dropped_rows_total (\d+)/.exec(metrics)![1])).toBeGreaterThan(0);
  });

  it('/ready reports models, index, capacity and shutdown state; /health stays liveness', async () => {
    const r = await fetch(`${s.url}/ready`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      ready: true,
      checks: {
        models: { ok: true, tasks: expect.any(Number) },
        index: { ok: true, state: 'no collection' },
        capacity: { ok: true, queued_rows: 0, inflight_rows: 0, limit_rows: 64 },
        shutdown: { ok: true, draining: false, inflight_requests: 0 },
      },
    });
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });
});
