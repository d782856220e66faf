import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths';
import { startServer, post, TestServer } from './helpers/server';

/**
 * The tasks that `.ci/train-smoke.sh` trains and exports, loaded through the server's own loader
 * (PUT /v1/tasks) and run over HTTP, against the outputs PyTorch gave for the same inputs.
 */
const RUNS = path.join(REPO_ROOT, 'training', 'runs');
const FIXTURES = path.join(RUNS, 'smoke-fixtures');
const KEY = 'parity-key';

function fixture(name: string): any {
  const f = path.join(FIXTURES, `${name}.json`);
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`bash .ci/train-smoke.sh\` first`);
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

describe('exported task modules: Node server vs PyTorch', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ tasksDir: RUNS, adminApiKey: KEY, collection: undefined });
    for (const dir of ['scifact-retriever-iaa-l-b0.5-s1-smoke/task', 'scifact-reranker-lora-b0.5-s1-smoke/task']) {
      const res = await fetch(`${s.url}/v1/tasks/${JSON.parse(fs.readFileSync(path.join(RUNS, dir, 'manifest.json'), 'utf8')).id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ path: dir }),
      });
      if (res.status !== 200) throw new Error(`loading ${dir} failed: ${res.status} ${await res.text()}`);
    }
  });
  afterAll(async () => s.close());

  it('retriever embeddings match within 1e-4', async () => {
    const fx = fixture('retriever');
    let worst = 0;
    for (const item of fx.items) {
      const r = await post(`${s.url}/v1/embed`, { inputs: [item.text], task: fx.task, input_type: item.kind });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-aside-task-version')).toBe(fx.version);
      (r.json[0] as number[]).forEach((x, d) => (worst = Math.max(worst, Math.abs(x - item.embedding[d]))));
    }
    expect(worst).toBeLessThanOrEqual(fx.tolerance);
  });

  it('re-ranker scores match within 1e-4', async () => {
    const fx = fixture('reranker');
    let worst = 0;
    for (let i = 0; i < fx.pairs.length; i++) {
      const [query, doc] = fx.pairs[i];
      const r = await post(`${s.url}/v1/rerank`, { query, documents: [doc], task: fx.task });
      expect(r.status).toBe(200);
      worst = Math.max(worst, Math.abs(r.json[0].relevance_score - fx.scores[i]));
    }
    expect(worst).toBeLessThanOrEqual(fx.tolerance);
  });
});
