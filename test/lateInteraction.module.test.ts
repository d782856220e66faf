import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths';
import { editManifest, makeTask } from './helpers/taskFactory';
import { post, startServer, TestServer } from './helpers/server';

/**
 * Late interaction through a retriever module (issue 10: "the bare backbone or any retriever module
 * of the same backbone"): the manifest names the module's retriever graph and weights, and MaxSim
 * runs over the token states that module produces.
 */
const KEY = 'li-module-key';
const QUERY = 'Vitamin D deficiency increases cancer risk';
const DOCS = ['Low serum 25-hydroxyvitamin D is associated with higher incidence of colorectal cancer.', 'The stock market fell sharply on Monday.', 'Vitamin D receptor signalling in bone.'];
const LATE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'models', 'tasks', 'minilm-late-interaction', 'manifest.json'), 'utf8')).lateInteraction;

/** Turns a task directory made by makeTask into a late-interaction re-ranker on the same module. */
function asLateInteraction(dir: string, id: string): void {
  editManifest(dir, (m) => {
    Object.assign(m, { id, role: 'reranker', kind: 'late-interaction', pooling: 'none', normalize: false, maxLength: {}, lateInteraction: LATE });
  });
}

describe('late interaction through a retriever module', () => {
  let s: TestServer;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-li-module-'));
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'models', 'tasks', 'minilm-late-interaction'), path.join(root, 'minilm-late-interaction'), { recursive: true });
    asLateInteraction(await makeTask(root, { id: 'li-module', version: '1', seed: 5, size: 8 }), 'li-module');
    s = await startServer({ tasksDir: root, collection: undefined, adminApiKey: KEY });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('loads, and scores MaxSim over the module token states: other scores than the bare backbone', async () => {
    const withModule = await post(`${s.url}/v1/rerank`, { query: QUERY, documents: DOCS, task: 'li-module' });
    const bare = await post(`${s.url}/v1/rerank`, { query: QUERY, documents: DOCS, task: 'minilm-late-interaction' });
    expect([withModule.status, bare.status]).toEqual([200, 200]);
    const byIndex = (r: { json: { index: number; relevance_score: number }[] }) =>
      r.json
        .slice()
        .sort((a, b) => a.index - b.index)
        .map((x) => x.relevance_score);
    const [a, b] = [byIndex(withModule), byIndex(bare)];
    expect(a.every(Number.isFinite)).toBe(true);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
  });

  it('refuses a late-interaction manifest on a cross-encoder graph with a 400 that says why', async () => {
    const dir = await makeTask(root, { id: 'li-wrong', version: '1', role: 'reranker', seed: 6 });
    asLateInteraction(dir, 'li-wrong');
    const put = await fetch(`${s.url}/v1/tasks/li-wrong`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'li-wrong' }) });
    const body = (await put.json()) as { error: string };
    expect(put.status).toBe(400);
    expect(body.error).toMatch(/no 'last_hidden_state' output; late interaction scores token states/);
    // Nothing already loaded is lost.
    expect((await post(`${s.url}/v1/rerank`, { query: QUERY, documents: DOCS, task: 'li-module' })).status).toBe(200);
  });
});
