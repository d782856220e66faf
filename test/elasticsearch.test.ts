/**
 * Elasticsearch integration against a REAL single-node Elasticsearch started by this file (no mocks):
 * corpus indexing, BM25 candidates with a quality floor, filters and templates, the shipped index
 * template, dense_vector write + kNN with real embeddings, and 503 once the node is stopped.
 *
 * ASIDE_ES_TEST_COLLECTION picks the BEIR collection (default demo/scifact-mini) and
 * ASIDE_ES_TEST_MIN_NDCG the BM25 floor (default 0.80; measured 0.876 on demo/scifact-mini).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Collection, loadCollection } from '../src/data/beir';
import { demoCollectionDir, REPO_ROOT } from '../src/paths';
import { score, Run } from '../src/eval/metrics';
import { AsideError } from '../src/errors';
import { resolveModel } from '../src/models/catalog';
import { Encoder, openBaseEncoder } from '../src/inference/encoder';
import { InProcessBackend } from '../src/inference/backend';
import { indexCollection } from '../tools/elasticsearch/corpusIndexer';
import { ElasticsearchCandidates } from '../src/search/sources/elasticsearch/bm25Candidates';
import { ensureVectorField, writeDenseVectors } from '../tools/elasticsearch/denseVectors';
import { ElasticsearchKnn, vectorFieldFor } from '../src/search/sources/elasticsearch/knnCandidates';
import { esConfigOf, clientOptions } from '../src/search/sources/elasticsearch/client';
import { loadConfig } from '../src/config';

const esConfigFromEnv = (env: NodeJS.ProcessEnv) => esConfigOf(loadConfig({}, env));
import { startEsNode, EsTestNode } from './helpers/esNode';

const COLLECTION = process.env.ASIDE_ES_TEST_COLLECTION ?? demoCollectionDir();
const MIN_NDCG = Number(process.env.ASIDE_ES_TEST_MIN_NDCG ?? 0.8);
const INDEX = 'aside-test-corpus';

let es: EsTestNode;
let col: Collection;

beforeAll(async () => {
  [es, col] = await Promise.all([startEsNode(), loadCollection(COLLECTION)]);
}, 180000);

afterAll(async () => {
  await es?.stop();
});

describe('config', () => {
  test('reads URL, API key and timeout from the environment', () => {
    const cfg = esConfigFromEnv({ ASIDE_ES_URL: 'https://es.example:9200', ASIDE_ES_API_KEY: 'abc', ASIDE_ES_TIMEOUT_MS: '2500', ASIDE_ES_TLS_INSECURE: '1' });
    expect(cfg).toMatchObject({ url: 'https://es.example:9200', apiKey: 'abc', requestTimeoutMs: 2500, tlsInsecure: true });
    expect(clientOptions(cfg!)).toMatchObject({ node: 'https://es.example:9200', auth: { apiKey: 'abc' }, requestTimeout: 2500, tls: { rejectUnauthorized: false } });
    expect(esConfigFromEnv({})).toBeUndefined();
    expect(() => esConfigFromEnv({ ASIDE_ES_URL: 'http://x:9200', ASIDE_ES_API_KEY: 'k', ASIDE_ES_USERNAME: 'u' })).toThrow(/either an API key or username/);
  });
});

describe('real Elasticsearch', () => {
  test('indexes the whole collection', async () => {
    const res = await indexCollection(es.client, col, { index: INDEX });
    expect(res.written).toBe(col.docs.length);
    expect((await es.client.count({ index: INDEX })).count).toBe(col.docs.length);
    const mapping = await es.client.indices.getMapping({ index: INDEX });
    expect(mapping[INDEX].mappings.properties).toMatchObject({ id: { type: 'keyword' }, title: { type: 'text' }, text: { type: 'text' } });
  });

  test(`BM25 candidates reach nDCG@10 >= ${MIN_NDCG} on ${path.basename(COLLECTION)}`, async () => {
    const bm25 = new ElasticsearchCandidates(es.client, { index: INDEX });
    const run: Run = new Map();
    for (const q of col.queries) {
      const hits = await bm25.search(q.text, 100);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1].score).toBeGreaterThanOrEqual(hits[i].score);
      run.set(
        q.id,
        hits.map((h) => h.id),
      );
    }
    const s = score(run, col.qrels);
    expect(s.queries).toBeGreaterThan(0);
    expect(s['ndcg@10']).toBeGreaterThanOrEqual(MIN_NDCG);
    // The returned fields are the document's own.
    const q = col.queries[0];
    const top = (await bm25.search(q.text, 1))[0];
    const doc = col.docs.find((d) => d.id === top.id)!;
    expect(top).toMatchObject({ title: doc.title, text: doc.text });
  });

  test('filters by ids and accepts a query template', async () => {
    const q = col.queries[1];
    const bm25 = new ElasticsearchCandidates(es.client, { index: INDEX });
    const hits = await bm25.search(q.text, 100);
    const third = hits[2].id;
    const nonMatching = col.docs.find((d) => !hits.some((h) => h.id === d.id))!.id;
    // Only allowed ids come back, and the filter does not add documents that do not match the query.
    expect((await bm25.search(q.text, 10, { ids: [third, nonMatching] })).map((h) => h.id)).toEqual([third]);
    expect(await bm25.search(q.text, 10, { query: { term: { id: third } } })).toHaveLength(1);

    const titleOnly = new ElasticsearchCandidates(es.client, { index: INDEX, template: '{"match": {"title": {"query": "{{query}}"}}}' });
    const doc = col.docs.find((d) => d.title.split(' ').length > 4)!;
    expect((await titleOnly.search(`${doc.title} "quoted" \\ text`, 5)).map((h) => h.id)).toContain(doc.id);
  });

  test('the shipped index template is accepted and maps vectors dynamically', async () => {
    const tpl = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'plugins', 'elasticsearch', 'index-template.json'), 'utf8'));
    await es.client.indices.putIndexTemplate({ name: 'aside-test-template', ...tpl, index_patterns: ['aside-tpl-*'] });
    await es.client.index({ index: 'aside-tpl-1', id: 'd1', document: { title: 'A title', text: 'Some text', vec_scifact_v1: [0.1, 0.2, 0.3] }, refresh: true });
    const m = (await es.client.indices.getMapping({ index: 'aside-tpl-1' }))['aside-tpl-1'].mappings.properties!;
    expect(m.vec_scifact_v1).toMatchObject({ type: 'dense_vector', dims: 3, similarity: 'cosine' });
    expect(m.title).toMatchObject({ type: 'text', analyzer: 'aside_text' });
  });

  describe('dense vectors', () => {
    let encoder: Encoder;
    let backend: InProcessBackend;
    const written = new Map<string, Float32Array>();
    const N = 120;

    beforeAll(async () => {
      backend = new InProcessBackend();
      encoder = await openBaseEncoder(resolveModel(), backend);
    }, 60000);
    afterAll(async () => {
      await backend?.close();
    });

    test('writes each document embedding into a dense_vector field; kNN returns the exact nearest', async () => {
      const docs = col.docs.slice(0, N);
      const field = vectorFieldFor({ id: 'base', version: encoder.info.model });
      const res = await writeDenseVectors(
        es.client,
        INDEX,
        docs,
        async (texts) => {
          const vecs = await encoder.embed(texts, 'document');
          return vecs;
        },
        { field, batchSize: 50, embedBatch: 32 },
      );
      expect(res).toMatchObject({ written: N, dims: encoder.info.dims, field });
      const mapping = (await es.client.indices.getMapping({ index: INDEX }))[INDEX].mappings.properties!;
      expect(mapping[field]).toMatchObject({ type: 'dense_vector', dims: encoder.info.dims });
      // Read the stored vectors back: they are what we embedded.
      const got = await es.client.mget<Record<string, number[]>>({ index: INDEX, ids: docs.map((d) => d.id), _source: [field] });
      for (const d of got.docs) {
        if (!('found' in d) || !d.found) throw new Error(`missing ${d._id}`);
        written.set(d._id, Float32Array.from(d._source![field]));
      }
      expect(written.size).toBe(N);

      const knn = new ElasticsearchKnn(es.client, { index: INDEX, field: () => field });
      const queries = col.queries.slice(0, 8);
      const qvecs = await encoder.embed(
        queries.map((q) => q.text),
        'query',
      );
      for (const qv of qvecs) {
        const hits = await knn.knn(qv, 5);
        expect(hits).toHaveLength(5);
        // Brute force over the same vectors gives the same nearest document.
        let best = '';
        let bestSim = -Infinity;
        for (const [id, v] of written) {
          let dot = 0;
          for (let i = 0; i < v.length; i++) dot += v[i] * qv[i];
          const sim = dot / (Math.hypot(...v) * Math.hypot(...qv));
          if (sim > bestSim) [best, bestSim] = [id, sim];
        }
        expect(hits[0].id).toBe(best);
        expect(hits[0].score).toBeCloseTo((1 + bestSim) / 2, 2);
        expect(hits[0].text).toBe(col.docs.find((d) => d.id === best)!.text);
      }
      // A document's own embedding finds itself; a filter restricts kNN.
      const [d0, d1] = docs;
      expect((await knn.knn(written.get(d0.id)!, 1))[0].id).toBe(d0.id);
      expect((await knn.knn(written.get(d0.id)!, 3, undefined, { ids: [d1.id] })).map((h) => h.id)).toEqual([d1.id]);
    });

    test('a vector field cannot silently change dims', async () => {
      const field = vectorFieldFor({ id: 'base', version: encoder.info.model });
      await expect(ensureVectorField(es.client, INDEX, field, encoder.info.dims + 1)).rejects.toMatchObject({ type: 'conflict', status: 409 });
    });
  });

  test('Elasticsearch stopped → 503 AsideError with a clear message', async () => {
    const bm25 = new ElasticsearchCandidates(es.client, { index: INDEX });
    const knn = new ElasticsearchKnn(es.client, { index: INDEX });
    await es.stop();
    const t0 = Date.now();
    const err = await bm25.search('cell biology', 10).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AsideError);
    expect(err).toMatchObject({ type: 'unavailable', status: 503 });
    expect((err as Error).message).toMatch(/Elasticsearch at http:\/\/127\.0\.0\.1:\d+ is unreachable during BM25 search/);
    await expect(knn.knn(new Float32Array(384), 3)).rejects.toMatchObject({ type: 'unavailable', status: 503 });
    expect(Date.now() - t0).toBeLessThan(15000);
  });
});
