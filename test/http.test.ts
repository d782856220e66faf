import { startServer, post, TestServer } from './helpers/server';

describe('HTTP API on the real default model', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s.close());

  it('reports health and info', async () => {
    expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ status: 'ok' });
    const info = (await (await fetch(`${s.url}/info`)).json()) as any;
    expect(info).toMatchObject({ model: 'all-MiniLM-L6-v2', dims: 384, provider: 'cpu', collection: { name: 'scifact-mini', documents: 400 } });
    expect(info.indexes[0]).toMatchObject({ task: 'base', size: 400 });
  });

  it('embeds a string or a list, TEI-style, and says which task answered', async () => {
    const one = await post(`${s.url}/v1/embed`, { inputs: 'hello world' });
    expect(one.status).toBe(200);
    expect(one.json).toHaveLength(1);
    expect(one.json[0]).toHaveLength(384);
    expect(one.headers.get('x-aside-task')).toBe('base');
    const norm = Math.sqrt(one.json[0].reduce((a: number, x: number) => a + x * x, 0));
    expect(norm).toBeCloseTo(1, 5);
    const two = await post(`${s.url}/embed`, { inputs: ['hello world', 'a completely different sentence about proteins'] });
    expect(two.json).toHaveLength(2);
    expect(two.json[0]).toEqual(one.json[0]);
  });

  it('speaks the OpenAI embeddings shape', async () => {
    const r = await post(`${s.url}/v1/embeddings`, { input: ['x y z'], model: 'base' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ object: 'list', model: 'base', data: [{ object: 'embedding', index: 0 }] });
    expect(r.json.usage.prompt_tokens).toBe(5);
  });

  it('searches the demo collection and finds a judged document for a demo query', async () => {
    // SciFact test query 1 and its judged document, both in the demo subset.
    const fs = await import('node:fs');
    const [q] = fs
      .readFileSync('demo/scifact-mini/queries.jsonl', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const rel = fs
      .readFileSync('demo/scifact-mini/qrels/test.tsv', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${q._id}\t`))!
      .split('\t')[1];
    const r = await post(`${s.url}/v1/search`, { query: q.text, k: 10 });
    expect(r.status).toBe(200);
    expect(r.json.task).toBe('base');
    expect(r.json.hits).toHaveLength(10);
    expect(r.json.hits.map((h: { id: string }) => h.id)).toContain(rel);
    expect(r.json.hits[0].score).toBeGreaterThanOrEqual(r.json.hits[9].score);
    expect(r.json.hits[0].title).toEqual(expect.any(String));
    expect(r.json.timings_ms.total).toBeGreaterThan(0);
  });

  it.each([
    ['bad JSON', '/v1/embed', '{"inputs": [', 400, 'validation'],
    ['empty list', '/v1/embed', { inputs: [] }, 400, 'validation'],
    ['empty string', '/v1/embed', { inputs: '' }, 400, 'validation'],
    ['wrong type', '/v1/embed', { inputs: 42 }, 400, 'validation'],
    ['oversize batch', '/v1/embed', { inputs: Array(257).fill('x') }, 413, 'payload_too_large'],
    ['oversize text', '/v1/embed', { inputs: ['x'.repeat(100_001)] }, 413, 'payload_too_large'],
    ['unknown task', '/v1/search', { query: 'x', task: 'nope' }, 404, 'not_found'],
    ['k out of range', '/v1/search', { query: 'x', k: 0 }, 400, 'validation'],
    ['no reranker loaded', '/v1/rerank', { query: 'x', documents: ['a'], task: 'base' }, 400, 'validation'],
    ['unknown route', '/v1/nope', {}, 404, 'not_found'],
  ])('%s → %i', async (_name, route, body, status, type) => {
    const r = await post(`${s.url}${route}`, body);
    expect(r.status).toBe(status);
    expect(r.json.error_type).toBe(type);
    expect(r.json.error).toEqual(expect.any(String));
  });

  it('keeps serving after bad requests and exports Prometheus metrics', async () => {
    const r = await post(`${s.url}/v1/embed`, { inputs: ['still alive'] });
    expect(r.status).toBe(200);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/aside_requests_total\{route="\/v1\/embed",task="base",status="200"\} \d+/);
    expect(text).toMatch(/aside_batch_rows_count\{task="base"\} \d+/);
  });
});
