import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, post, TestServer } from './helpers/server';
import { editManifest, makeTask } from './helpers/taskFactory';
import { readSafetensors, writeSafetensors } from '../src/tasks/safetensors';

const KEY = 'validation-key';

/** Modules that pass the schema but would fail at run time are refused at load, with the reason. */
describe('task validation catches what would break at run time', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-validate-'));
  let s: TestServer;
  const put = async (p: string) => {
    const res = await fetch(`${s.url}/v1/tasks/alpha`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ path: p }) });
    return { status: res.status, json: (await res.json()) as any };
  };
  const alphaVersion = async () => (await post(`${s.url}/v1/embed`, { inputs: ['x'], task: 'alpha' })).headers.get('x-aside-task-version');

  beforeAll(async () => {
    await makeTask(root, { id: 'alpha', version: 'v1', seed: 1 });
    s = await startServer({ tasksDir: root, adminApiKey: KEY, collection: undefined });
  });
  afterAll(async () => s.close());

  it('one tensor with another bottleneck size than the rest', async () => {
    const dir = await makeTask(path.join(root, 'odd'), { id: 'alpha', version: 'odd', seed: 2, size: 4 });
    const weights = readSafetensors(path.join(dir, 'module.safetensors'));
    const [name, t] = [...weights].find(([, x]) => x.shape.length === 1 && x.shape[0] === 4)!;
    const tensors = Object.fromEntries([...weights].map(([n, x]) => [n, n === name ? { shape: [5], data: new Float32Array(5) } : x]));
    writeSafetensors(path.join(dir, 'module.safetensors'), tensors);
    editManifest(dir, (m) => (m.tensors[name].shape = [5]));
    expect(t.shape).toEqual([4]);
    const r = await put('odd/alpha');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/dimension 'r' is \d in tensor '.+' but \d in tensor '.+'; the graph needs one size/);
    expect(await alphaVersion()).toBe('v1');
  });

  it('a maxLength beyond what the backbone accepts', async () => {
    const dir = await makeTask(path.join(root, 'long'), { id: 'alpha', version: 'long', seed: 3 });
    editManifest(dir, (m) => (m.maxLength.document = 600));
    const r = await put('long/alpha');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/probe embedding a document at maxLength.document 600 failed/);
    expect(await alphaVersion()).toBe('v1');
  });

  it('a retriever manifest on a re-ranker graph', async () => {
    const reranker = await makeTask(path.join(root, 'judge-src'), { id: 'alpha', version: 'wrong-graph', role: 'reranker', seed: 4 });
    editManifest(reranker, (m) => {
      m.role = 'retriever';
      m.maxLength = { query: 64, document: 128 };
    });
    const r = await put('judge-src/alpha');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/re-ranker graph/);
    expect(await alphaVersion()).toBe('v1');
    const ok = await post(`${s.url}/v1/embed`, { inputs: ['still fine'], task: 'alpha' });
    expect(ok.json[0]).toHaveLength(384);
  });
});
