/**
 * The search pipeline over HTTP against a REAL Elasticsearch started here: BM25 candidates, hybrid
 * (RRF), cross-encoder re-ranking of the candidates, kNN candidates from task vectors written into
 * Elasticsearch, and the 503 / fallback behaviour once the node is stopped mid-test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCollection } from '../src/data/beir';
import { demoCollectionDir } from '../src/paths';
import { indexCollection } from '../tools/elasticsearch/corpusIndexer';
import { writeDenseVectors } from '../tools/elasticsearch/denseVectors';
import { vectorFieldFor } from '../src/search/sources/elasticsearch/knnCandidates';
import { startEsNode, EsTestNode } from './helpers/esNode';
import { startServer, post, TestServer } from './helpers/server';
import { joinDocument } from '../src/text/documentText';
import { makeTask } from './helpers/taskFactory';

const INDEX = 'aside-pipeline-test';

describe('search pipeline with a real Elasticsearch', () => {
  let es: EsTestNode;
  let s: TestServer;
  let query: { id: string; text: string };
  let relevant: string;
  let queries: { id: string; text: string }[];
  let qrels: Map<string, Map<string, number>>;

  beforeAll(async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-pipe-'));
    await makeTask(root, { id: 'judge', version: 'v1', role: 'reranker', seed: 4 });
    const [node, col] = await Promise.all([startEsNode(), loadCollection(demoCollectionDir())]);
    es = node;
    await indexCollection(es.client, col, { index: INDEX });
    queries = col.queries;
    qrels = col.qrels;
    query = col.queries[0];
    relevant = [...col.qrels.get(query.id)!.keys()][0];
    // The server builds its Elasticsearch sources exactly as `serve` does, from the ASIDE_ES_* settings.
    s = await startServer({ tasksDir: root, esUrl: es.url, esIndex: INDEX, esTimeoutMs: 3000, esMaxRetries: 0 });
    const base = s.app.registry.get('base');
    await writeDenseVectors(es.client, INDEX, col.docs, (t) => base.encoder.embed(t, 'document'), {
      field: vectorFieldFor({ id: base.id, version: base.version }),
      text: (d) => base.encoder.documentText(d),
    });
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await es?.stop();
  });

  const search = (body: Record<string, unknown>) => post(`${s.url}/v1/search`, { query: query.text, k: 10, include_text: false, ...body });

  it('BM25 candidates from Elasticsearch find judged documents', async () => {
    let found = 0;
    for (const q of queries.slice(0, 20)) {
      const r = await post(`${s.url}/v1/search`, { query: q.text, k: 10, include_text: false, candidates: 'elasticsearch' });
      expect(r.status).toBe(200);
      expect(r.json.hits.every((h: any) => h.stage === 'elasticsearch')).toBe(true);
      expect(r.json.timings_ms.elasticsearch).toBeGreaterThan(0);
      if (r.json.hits.some((h: any) => qrels.get(q.id)!.has(h.id))) found++;
    }
    expect(found).toBeGreaterThanOrEqual(15); // measured 0.88 nDCG@10 for BM25 on this subset
  });

  it('hybrid fuses dense and BM25 with reciprocal rank fusion', async () => {
    const [d, b, h] = await Promise.all([search({ candidates: 'dense', k: 20 }), search({ candidates: 'elasticsearch', k: 20 }), search({ candidates: 'hybrid', k: 20, window: 20 })]);
    const fused = new Map<string, number>();
    for (const list of [d.json.hits, b.json.hits]) list.forEach((x: any, i: number) => fused.set(x.id, (fused.get(x.id) ?? 0) + 1 / (60 + i + 1)));
    const want = [...fused.entries()].sort((x, y) => y[1] - x[1]).slice(0, 20);
    expect(h.json.hits.every((x: any) => x.stage === 'hybrid')).toBe(true);
    expect(h.json.hits.map((x: any) => x.score)).toEqual(want.map(([, v]) => expect.closeTo(v, 10)));
    expect(new Set(h.json.hits.slice(0, 5).map((x: any) => x.id))).toEqual(new Set(want.slice(0, 5).map(([id]) => id)));
    expect(h.json.timings_ms).toMatchObject({ dense: expect.any(Number), elasticsearch: expect.any(Number) });
  });

  it('re-ranks the candidate window with a cross-encoder task', async () => {
    const r = await search({ candidates: 'hybrid', window: 30, rerank: { task: 'judge' } });
    expect(r.status).toBe(200);
    expect(r.json.rerank).toEqual({ task: 'judge', task_version: 'v1', blend: false });
    const scores = r.json.hits.map((h: any) => h.score);
    expect([...scores].sort((a: number, b: number) => b - a)).toEqual(scores);
    expect(r.json.hits.every((h: any) => h.stage === 'rerank')).toBe(true);
    // The scores are the re-ranker's: the same pairs, joined by the task's text contract ('. ', as
    // its manifest says), through /v1/rerank give the same numbers.
    const doc = s.app.doc(r.json.hits[0].id)!;
    const direct = await post(`${s.url}/v1/rerank`, { query: query.text, documents: [joinDocument(doc, { titleSeparator: '. ' })], task: 'judge' });
    expect(direct.json[0].relevance_score).toBeCloseTo(r.json.hits[0].score, 4);
    expect(r.json.hits[0].scores.rerank).toBe(r.json.hits[0].score);
  });

  it('blends the re-ranker with both first stages of hybrid candidates', async () => {
    const r = await search({ candidates: 'hybrid', window: 30, k: 30, rerank: { task: 'judge', blend: { rerank: 1, dense: 1, bm25: 1 } } });
    expect(r.status).toBe(200);
    expect(r.json.rerank.blend).toEqual({ rerank: 1, dense: 1, bm25: 1 });
    const hits = r.json.hits as { score: number; scores: { rerank: number; dense?: number; bm25?: number } }[];
    // Hybrid windows mix hits found by one or both stages; each blended score lies in [0, 1].
    expect(hits.some((h) => h.scores.dense !== undefined && h.scores.bm25 !== undefined)).toBe(true);
    hits.forEach((h) => expect(h.score).toBeGreaterThanOrEqual(0));
    hits.forEach((h) => expect(h.score).toBeLessThanOrEqual(1 + 1e-9));
  });

  it('kNN candidates from task vectors stored in Elasticsearch agree with the in-process index', async () => {
    const [knn, dense] = await Promise.all([search({ candidates: 'elasticsearch-knn' }), search({ candidates: 'dense' })]);
    expect(knn.status).toBe(200);
    expect(knn.json.hits[0].stage).toBe('elasticsearch-knn');
    expect(knn.json.hits[0].id).toBe(dense.json.hits[0].id);
    const overlap = knn.json.hits.filter((h: any) => dense.json.hits.some((x: any) => x.id === h.id)).length;
    expect(overlap).toBeGreaterThanOrEqual(8);
  });

  it('Elasticsearch down: 503 with a clear message, or dense candidates when the request allows fallback', async () => {
    await es.stop();
    const down = await search({ candidates: 'elasticsearch' });
    expect(down.status).toBe(503);
    expect(down.json.error_type).toBe('unavailable');
    expect(down.json.error).toMatch(/Elasticsearch/);
    const fell = await search({ candidates: 'hybrid', fallback: true });
    expect(fell.status).toBe(200);
    expect(fell.json.fell_back).toMatchObject({ from: 'hybrid', to: 'dense' });
    expect(fell.json.hits.map((h: any) => h.id)).toContain(relevant);
  }, 60_000);
});
