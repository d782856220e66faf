import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeZip } from './helpers/zipWriter';
import { startServer, post, TestServer } from './helpers/server';
import { editManifest, makeTask } from './helpers/taskFactory';

const KEY = 'test-admin-key';

async function put(s: TestServer, id: string, body: unknown, key: string | null = KEY) {
  const res = await fetch(`${s.url}/v1/tasks/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('task modules at request time', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-tasks-'));
  const staging = path.join(root, 'staging');
  let s: TestServer;

  beforeAll(async () => {
    await makeTask(path.join(root, 'live'), { id: 'alpha', version: 'v1', seed: 1 });
    await makeTask(path.join(root, 'live'), { id: 'judge', version: 'v1', role: 'reranker', seed: 3 });
    s = await startServer({ tasksDir: path.join(root, 'live'), adminApiKey: KEY, collection: undefined });
  });
  afterAll(async () => s.close());

  const embedAlpha = async () => {
    const r = await post(`${s.url}/v1/embed`, { inputs: ['vitamin D and cancer risk'], task: 'alpha' });
    expect(r.status).toBe(200);
    return { version: r.headers.get('x-aside-task-version'), vector: r.json[0] as number[] };
  };

  it('loads every task under the tasks directory next to the bare backbone', async () => {
    const list = (await (await fetch(`${s.url}/v1/tasks`)).json()) as any;
    expect(list.tasks.map((t: any) => `${t.id}@${t.version}:${t.role}`).sort()).toEqual(['alpha@v1:retriever', 'base@all-MiniLM-L6-v2:retriever', 'judge@v1:reranker']);
    expect(list.defaults).toEqual({ retriever: 'base', reranker: 'judge' });
  });

  it('takes the default tasks from settings, and refuses to start on a default that is not loaded', async () => {
    const other = await startServer({ tasksDir: path.join(root, 'live'), collection: undefined, defaultRetriever: 'alpha', workers: 0 });
    try {
      const list = (await (await fetch(`${other.url}/v1/tasks`)).json()) as any;
      expect(list.defaults).toEqual({ retriever: 'alpha', reranker: 'judge' });
      const r = await post(`${other.url}/v1/embed`, { inputs: ['x'] });
      expect(r.headers.get('x-aside-task')).toBe('alpha');
    } finally {
      await other.close();
    }
    await expect(startServer({ tasksDir: path.join(root, 'live'), collection: undefined, defaultReranker: 'nope', workers: 0 })).rejects.toThrow(/default reranker 'nope' is not loaded/);
    await expect(startServer({ tasksDir: path.join(root, 'live'), collection: undefined, defaultReranker: 'alpha', workers: 0 })).rejects.toThrow(/alpha' is a retriever, not a reranker/);
  });

  it('answers with the task named per request, and says which version answered', async () => {
    const base = await post(`${s.url}/v1/embed`, { inputs: ['vitamin D and cancer risk'] });
    const alpha = await embedAlpha();
    expect(alpha.version).toBe('v1');
    expect(base.headers.get('x-aside-task')).toBe('base');
    const diff = Math.max(...alpha.vector.map((x, i) => Math.abs(x - base.json[0][i])));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('re-ranks a window of several hundred documents, in TEI and Cohere shapes', async () => {
    const docs = Array.from({ length: 300 }, (_, i) => `document ${i} about ${i % 2 ? 'bone density' : 'stock markets'}`);
    const r = await post(`${s.url}/v1/rerank`, { query: 'vitamin D and bone density', documents: docs, top_n: 5, return_documents: true });
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(5);
    expect(r.json[0]).toEqual({ index: expect.any(Number), relevance_score: expect.any(Number), text: docs[r.json[0].index] });
    const scores = r.json.map((x: any) => x.relevance_score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const cohere = await post(`${s.url}/v2/rerank`, { model: 'judge', query: 'q', documents: ['a', 'b', 'c'], top_n: 2 });
    expect(cohere.json.results).toHaveLength(2);
    expect(cohere.json.meta).toEqual({ task: 'judge', task_version: 'v1' });
    const ids = await post(`${s.url}/v1/rerank`, {
      query: 'q',
      documents: [
        { id: 'x', text: 'a' },
        { id: 'y', text: 'b' },
      ],
    });
    expect(ids.json.map((x: any) => x.id).sort()).toEqual(['x', 'y']);
  });

  it('refuses admin calls without the right API key', async () => {
    expect((await put(s, 'alpha', { path: 'alpha' }, null)).status).toBe(401);
    expect((await put(s, 'alpha', { path: 'alpha' }, 'wrong')).status).toBe(401);
    const del = await fetch(`${s.url}/v1/tasks/alpha`, { method: 'DELETE' });
    expect(del.status).toBe(401);
  });

  describe('a bad load is refused with the reason and changes nothing', () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['corrupt weights', (d) => fs.writeFileSync(path.join(d, 'module.safetensors'), Buffer.from('not a safetensors file at all')), /weights file is unreadable/],
      ['truncated weights', (d) => fs.truncateSync(path.join(d, 'module.safetensors'), 2000), /unreadable/],
      ['wrong shapes', (d) => editManifest(d, (m) => (Object.values(m.tensors as Record<string, { shape: number[] }>)[0].shape = [3, 3])), /shape/],
      ['wrong backbone hash', (d) => editManifest(d, (m) => (m.backbone.sha256 = 'f'.repeat(64))), /trained on backbone/],
      ['wrong graph signature', (d) => editManifest(d, (m) => (m.graph.signature = 'a'.repeat(64))), /signature mismatch/],
      ['missing tensor', (d) => editManifest(d, (m) => delete m.tensors[Object.keys(m.tensors)[0]]), /do not match the graph inputs/],
      ['bad manifest', (d) => editManifest(d, (m) => (m.role = 'classifier')), /role/],
      ['role change', (d) => editManifest(d, (m) => (m.role = 'reranker')), /.+/],
      [
        'NaN values',
        (d) => {
          const f = path.join(d, 'module.safetensors');
          const buf = fs.readFileSync(f);
          buf.writeFloatLE(NaN, buf.length - 4);
          fs.writeFileSync(f, buf);
        },
        /non-finite/,
      ],
    ];
    it.each(cases)('%s', async (name, tamper, message) => {
      const dir = await makeTask(path.join(root, 'live', 'bad'), { id: 'alpha', version: `bad-${name}`, seed: 9 });
      tamper(dir);
      const before = await embedAlpha();
      const r = await put(s, 'alpha', { path: path.relative(path.join(root, 'live'), dir) });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.json.error).toMatch(message);
      const after = await embedAlpha();
      expect(after).toEqual(before);
      expect(after.version).toBe('v1');
    });

    it('path traversal and missing paths', async () => {
      fs.mkdirSync(staging, { recursive: true });
      await makeTask(staging, { id: 'alpha', version: 'outside', seed: 5 });
      for (const p of ['../staging/alpha', '/etc', path.join(staging, 'alpha')]) {
        const r = await put(s, 'alpha', { path: p });
        expect(r.status).toBe(400);
        expect(r.json.error).toMatch(/escapes the models root|is absolute/);
      }
      fs.symlinkSync(path.join(staging, 'alpha'), path.join(root, 'live', 'sneaky'));
      expect((await put(s, 'alpha', { path: 'sneaky' })).json.error).toMatch(/escapes/);
      expect((await put(s, 'alpha', { path: 'nope' })).status).toBe(404);
      expect((await embedAlpha()).version).toBe('v1');
    });
  });

  it('loads an uploaded zip archive, and refuses unsafe archives and other ids', async () => {
    const src = await makeTask(path.join(root, 'zipsrc'), { id: 'alpha', version: 'zipped', seed: 6 });
    const zip = (entries: [string, string][]) => writeZip(entries.map(([file, name]) => ({ name, data: fs.readFileSync(file) })));
    const upload = async (body: Buffer, id = 'alpha') => {
      const res = await fetch(`${s.url}/v1/tasks/${id}`, { method: 'PUT', headers: { 'content-type': 'application/zip', authorization: `Bearer ${KEY}` }, body });
      return { status: res.status, json: (await res.json()) as any };
    };
    const good = zip([
      [path.join(src, 'manifest.json'), 'alpha/manifest.json'],
      [path.join(src, 'module.safetensors'), 'alpha/module.safetensors'],
    ]);
    const evil = zip([
      [path.join(src, 'manifest.json'), 'manifest.json'],
      [path.join(src, 'module.safetensors'), '../../module.safetensors'],
    ]);
    const before = await embedAlpha();
    const bad = await upload(evil);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/not allowed|invalid relative path/);
    const other = await upload(good, 'judge');
    expect(other.status).toBe(409);
    expect((await embedAlpha()).version).toBe(before.version);
    expect((await upload(Buffer.from('not a zip'))).status).toBe(400);
    const ok = await upload(good);
    expect(ok.status).toBe(200);
    expect(ok.json.version).toBe('zipped');
    expect((await embedAlpha()).version).toBe('zipped');
  });

  it('never serves a cached query embedding of replaced weights, even under the same version string', async () => {
    const q = { inputs: ['cache probe'], task: 'alpha', input_type: 'query' };
    const first = await post(`${s.url}/v1/embed`, q);
    expect((await post(`${s.url}/v1/embed`, q)).json).toEqual(first.json); // served from the cache
    await makeTask(path.join(root, 'live', 'same'), { id: 'alpha', version: first.headers.get('x-aside-task-version')!, seed: 77 });
    expect((await put(s, 'alpha', { path: 'same/alpha' })).status).toBe(200);
    const after = await post(`${s.url}/v1/embed`, q);
    expect(after.headers.get('x-aside-task-version')).toBe(first.headers.get('x-aside-task-version'));
    expect(after.json).not.toEqual(first.json);
  });

  it('hot-swaps a new version, then unloads the task', async () => {
    const before = await embedAlpha();
    await makeTask(path.join(root, 'live', 'v2'), { id: 'alpha', version: 'v2', seed: 2 });
    const r = await put(s, 'alpha', { path: 'v2/alpha' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'alpha', version: 'v2', role: 'retriever' });
    const after = await embedAlpha();
    expect(after.version).toBe('v2');
    expect(after.vector).not.toEqual(before.vector);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/aside_task_swaps_total\{task="alpha"\} [1-9]/);
    const del = await fetch(`${s.url}/v1/tasks/alpha`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(del.status).toBe(200);
    const gone = await post(`${s.url}/v1/embed`, { inputs: ['x'], task: 'alpha' });
    expect(gone.status).toBe(404);
    expect(gone.json.known).toEqual(expect.arrayContaining(['base', 'judge']));
  });
});
