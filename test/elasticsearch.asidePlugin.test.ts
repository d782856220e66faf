/**
 * The Aside plugin for Elasticsearch (plugins/elasticsearch), end to end: built with Maven when its zip is
 * missing, installed into a REAL 9.3.2 node, calling a REAL Aside server (real model) over HTTP. No mocks.
 * - aside_rerank retriever over BM25 == Aside's own /v1/search re-rank of the same candidates;
 * - blend {rerank, first_stage} == the shared blend contract computed here from /v1/rerank + BM25 scores;
 * - the aside rescorer == the retriever on a single-shard index;
 * - knn with the aside query_vector_builder on vectors written by the aside_embed ingest processor agrees
 *   with Aside's dense search (top-10 overlap);
 * - Aside down or slow → on_failure: fail (503 / 504 naming Aside) or keep_order (BM25 order).
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Collection, loadCollection } from '../src/data/beir';
import { demoCollectionDir } from '../src/paths';
import { indexCollection } from '../tools/elasticsearch/corpusIndexer';
import { ElasticsearchCandidates } from '../src/search/sources/elasticsearch/bm25Candidates';
import { ensurePluginBuilt } from '../tools/elasticsearch/plugin';
import { startEsNode, EsTestNode } from './helpers/esNode';
import { post, startServer, TestServer } from './helpers/server';

const INDEX = 'aside-plugin-corpus';
const VEC_INDEX = 'aside-plugin-vectors';
const WINDOW = 20;
const N_QUERIES = 8;
const API_KEY = 'aside-test-key-7f3a';
/** A shipped module retriever whose text contract joins title and text with ". ", not BEIR's space. */
const RETRIEVER = 'scifact-iaa-l-retriever';

let es: EsTestNode;
let aside: TestServer;
let col: Collection;
let bm25: ElasticsearchCandidates;

/** POST to the node; the JSON body and status, errors included. */
const esPost = (path: string, body: unknown) => post(`${es.url}${path}`, body);
const esPut = async (path: string, body: unknown) => {
  const res = await fetch(`${es.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
};
const setAsideUrl = (url: string) => esPut('/_cluster/settings', { transient: { 'aside.url': url } });

const rerankRetriever = (query: string, extra: Record<string, unknown> = {}) => ({
  aside_rerank: {
    retriever: { standard: { query: bm25.buildQuery(query) } },
    query,
    fields: ['text'],
    title_field: 'title',
    rank_window_size: WINDOW,
    ...extra,
  },
});

/** The shared blend contract (COMMON: min-max per query over the window, weighted mean), as the oracle. */
function blendScores(rerank: number[], firstStage: number[], w: { rerank: number; first_stage: number }): number[] {
  const norm = (s: number[]) => {
    const [lo, hi] = [Math.min(...s), Math.max(...s)];
    return s.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
  };
  const [r, f] = [norm(rerank), norm(firstStage)];
  return r.map((x, i) => (w.rerank * x + w.first_stage * f[i]) / (w.rerank + w.first_stage));
}

const ids = (r: { json: any }): string[] => r.json.hits.hits.map((h: any) => h._id);

beforeAll(async () => {
  const [zip, collection] = await Promise.all([ensurePluginBuilt(), loadCollection(demoCollectionDir())]);
  col = collection;
  // aside.url is a dynamic setting: the node starts first, Aside (which needs the node for BM25) second.
  es = await startEsNode({ plugins: [zip], settings: { 'aside.url': 'http://127.0.0.1:9' }, keystore: { 'aside.api_key': API_KEY } });
  bm25 = new ElasticsearchCandidates(es.client, { index: INDEX });
  await indexCollection(es.client, col, { index: INDEX });
  aside = await startServer({}, { lexical: bm25 });
  expect((await setAsideUrl(aside.url)).status).toBe(200);
}, 600000);

afterAll(async () => {
  await aside?.close();
  await es?.stop();
});

test('the node lists the plugin', async () => {
  const res = await fetch(`${es.url}/_cat/plugins?format=json`);
  expect(((await res.json()) as { component: string }[]).map((p) => p.component)).toContain('aside');
});

test('aside_rerank over BM25 gives the order of Aside /v1/search re-ranking the same candidates', async () => {
  let compared = 0;
  for (const q of col.queries.slice(0, N_QUERIES)) {
    const viaEs = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q.text), size: WINDOW, _source: false });
    expect(viaEs.status).toBe(200);
    const direct = await post(`${aside.url}/v1/search`, { query: q.text, candidates: 'elasticsearch', window: WINDOW, k: WINDOW, rerank: { blend: false }, include_text: false });
    expect(direct.status).toBe(200);
    expect(ids(viaEs)).toEqual(direct.json.hits.map((h: any) => h.id));
    // Elasticsearch wants positive scores: the plugin maps raw logits through max(s,0) + min(e^s,1), monotone.
    const esScores: number[] = viaEs.json.hits.hits.map((h: any) => h._score);
    direct.json.hits.forEach((h: any, i: number) => expect(esScores[i]).toBeCloseTo(Math.max(h.score, 0) + Math.min(Math.exp(h.score), 1), 4));
    compared++;
  }
  expect(compared).toBe(N_QUERIES);
}, 300000);

test('blend {rerank, first_stage} follows the shared contract (min-max per query, weighted mean)', async () => {
  const q = col.queries[3];
  const blend = { rerank: 0.7, first_stage: 0.3 };
  const viaEs = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q.text, { blend }), size: WINDOW, _source: false });
  expect(viaEs.status).toBe(200);
  const cands = await bm25.search(q.text, WINDOW);
  const raw = await post(`${aside.url}/v1/rerank`, { query: q.text, documents: cands.map((c) => ({ title: c.title, text: c.text })) });
  const rerankScores: number[] = [];
  for (const r of raw.json as { index: number; relevance_score: number }[]) rerankScores[r.index] = r.relevance_score;
  const expected = blendScores(
    rerankScores,
    cands.map((c) => c.score),
    blend,
  );
  const order = cands.map((c, i) => ({ id: c.id, s: expected[i] })).sort((a, b) => b.s - a.s);
  expect(ids(viaEs)).toEqual(order.map((o) => o.id));
  viaEs.json.hits.hits.forEach((h: any, i: number) => expect(h._score).toBeCloseTo(order[i].s, 4));
  // Aside's own /v1/search blends the same way ({rerank, bm25} there = {rerank, first_stage} here).
  const direct = await post(`${aside.url}/v1/search`, { query: q.text, candidates: 'elasticsearch', window: WINDOW, k: WINDOW, rerank: { blend: { rerank: 0.7, bm25: 0.3 } }, include_text: false });
  expect(direct.status).toBe(200);
  expect(ids(viaEs)).toEqual(direct.json.hits.map((h: any) => h.id));
  // The blend is a different ranking from the raw re-ranker here, or the test would prove nothing.
  const rawOrder = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q.text), size: WINDOW, _source: false });
  expect(ids(rawOrder)).not.toEqual(ids(viaEs));
}, 120000);

test('the aside rescorer equals the retriever on a single-shard index', async () => {
  for (const q of col.queries.slice(0, 3)) {
    const viaRescore = await esPost(`/${INDEX}/_search`, {
      query: bm25.buildQuery(q.text),
      rescore: { window_size: WINDOW, aside: { query: q.text, fields: ['text'], title_field: 'title' } },
      size: WINDOW,
      _source: false,
    });
    expect(viaRescore.status).toBe(200);
    const viaRetriever = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q.text), size: WINDOW, _source: false });
    expect(ids(viaRescore)).toEqual(ids(viaRetriever));
  }
}, 120000);

test('knn with the aside query vector builder on aside_embed vectors agrees with Aside dense search', async () => {
  const dims = aside.app.base.info.dims;
  expect((await esPut('/_ingest/pipeline/aside-embed', { processors: [{ aside_embed: { fields: ['text'], title_field: 'title', target_field: 'vec', task: RETRIEVER } }] })).status).toBe(200);
  // hnsw, not 9.x's default bbq_hnsw for >= 384 dims: float vectors, so kNN sees Aside's own vectors
  // rather than 1-bit quantised ones and the comparison measures the plugin, not quantisation.
  const created = await esPut(`/${VEC_INDEX}`, {
    settings: { number_of_shards: 1, number_of_replicas: 0, default_pipeline: 'aside-embed' },
    mappings: { properties: { title: { type: 'text' }, text: { type: 'text' }, vec: { type: 'dense_vector', dims, similarity: 'cosine', index_options: { type: 'hnsw' } } } },
  });
  expect(created.status).toBe(200);
  const body = col.docs.flatMap((d) => [JSON.stringify({ index: { _index: VEC_INDEX, _id: d.id } }), JSON.stringify({ title: d.title, text: d.text })]).join('\n') + '\n';
  const bulk = await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  const bulkJson = (await bulk.json()) as { errors: boolean; items: unknown[] };
  expect(bulkJson.errors).toBe(false);
  expect(bulkJson.items.length).toBe(col.docs.length);

  const overlaps: number[] = [];
  for (const q of col.queries.slice(0, 20)) {
    const viaEs = await esPost(`/${VEC_INDEX}/_search`, {
      knn: { field: 'vec', k: 10, num_candidates: 100, query_vector_builder: { aside: { text: q.text, task: RETRIEVER } } },
      size: 10,
      _source: false,
    });
    expect(viaEs.status).toBe(200);
    const direct = await post(`${aside.url}/v1/search`, { query: q.text, candidates: 'dense', task: RETRIEVER, k: 10, include_text: false });
    const want = new Set(direct.json.hits.map((h: any) => h.id));
    overlaps.push(ids(viaEs).filter((id) => want.has(id)).length / 10);
  }
  const mean = overlaps.reduce((a, b) => a + b, 0) / overlaps.length;
  expect(mean).toBeGreaterThanOrEqual(0.95);
}, 300000);

describe('Aside down or slow', () => {
  let hung: http.Server;
  let hungUrl: string;
  const seenAuth: (string | undefined)[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: a stalled Aside (it notes the credentials it was sent).
    hung = http.createServer((req) => seenAuth.push(req.headers.authorization));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hung.closeAllConnections();
    await new Promise((r) => hung.close(r));
    await setAsideUrl(aside.url);
  });

  test('unreachable: on_failure fail → 503 naming Aside; keep_order → the BM25 order', async () => {
    const q = col.queries[0];
    expect((await setAsideUrl('http://127.0.0.1:9')).status).toBe(200);
    const failed = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q.text), size: WINDOW });
    expect(failed.status).toBe(503);
    expect(JSON.stringify(failed.json)).toMatch(/Aside is unreachable at \[http:\/\/127\.0\.0\.1:9\/v1\/rerank\]/);
    const kept = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q.text, { on_failure: 'keep_order' }), size: WINDOW, _source: false });
    expect(kept.status).toBe(200);
    expect(ids(kept)).toEqual((await bm25.search(q.text, WINDOW)).map((c) => c.id));
  }, 60000);

  test('slow: the timeout answers 504 instead of waiting', async () => {
    expect((await setAsideUrl(hungUrl)).status).toBe(200);
    const t0 = Date.now();
    const res = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(col.queries[0].text, { timeout: '500ms' }), size: WINDOW });
    expect(res.status).toBe(504);
    expect(JSON.stringify(res.json)).toMatch(/Aside did not answer/);
    expect(Date.now() - t0).toBeLessThan(20000);
    // The API key from the node's keystore went along.
    expect(seenAuth).toContain(`Bearer ${API_KEY}`);
  }, 60000);

  test('bad options are 400s at parse time', async () => {
    const q = col.queries[0].text;
    for (const bad of [{ on_failure: 'retry' }, { blend: { rerank: -1 } }, { fields: [] }]) {
      const res = await esPost(`/${INDEX}/_search`, { retriever: rerankRetriever(q, bad) });
      expect(res.status).toBe(400);
    }
  });
});
