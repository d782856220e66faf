/**
 * `npx tsx bench/esPluginOverhead.ts --collection DIR [--window 20] [--rerank TASK]`: what going through
 * Elasticsearch costs. Per query, interleaved (the order alternates), the same BM25 top `window` is
 * re-ranked (a) directly by SearchPipeline (what `POST /v1/search` runs) and (b) as one Elasticsearch
 * `_search` with the plugin's aside_rerank retriever calling this process's Aside over HTTP. Prints one
 * JSON line: p50/p99 of each path and of the per-query difference, and whether the orders agreed.
 * Needs ASIDE_ES_URL (a node with the plugin) and the collection indexed (`npm run es -- index`).
 */
import { parseArgs } from 'node:util';
import { loadCollection } from '../src/data/beir';
import { loadConfig } from '../src/config';
import { compose } from '../src/compose';
import { searchQuery } from '../src/search/query';
import { elasticsearchSources } from '../src/search/sources/elasticsearch/sources';
import { ElasticsearchCandidates } from '../src/search/sources/elasticsearch/bm25Candidates';
import { createEsClient, esConfigOf } from '../src/search/sources/elasticsearch/client';
import { EsPluginReranker, percentile } from '../src/commands/evalThroughEsPlugin';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { collection: { type: 'string' }, window: { type: 'string', default: '20' }, rerank: { type: 'string' }, queries: { type: 'string' } } });
  const config = loadConfig({ workers: 0 });
  const es = esConfigOf(config);
  if (!values.collection || !es) throw new Error('needs --collection and ASIDE_ES_URL');
  const col = await loadCollection(values.collection, 'test');
  const { app, pipeline } = await compose(config, { collection: col });
  const bm25 = elasticsearchSources(app, config).lexical;
  if (!(bm25 instanceof ElasticsearchCandidates)) throw new Error('no Elasticsearch BM25 source');
  const window = Number(values.window);
  const plugin = await EsPluginReranker.start(app, pipeline, createEsClient(es), bm25, { task: values.rerank, window });
  const base = searchQuery({ query: 'x', k: window, candidates: 'elasticsearch', window, rerank: { task: values.rerank }, include_text: false });
  const queries = col.queries.slice(0, values.queries ? Number(values.queries) : undefined);
  const direct: number[] = [];
  const through: number[] = [];
  let agreed = 0;
  const time = async <T>(f: () => Promise<T>, into: number[]): Promise<T> => {
    const t0 = process.hrtime.bigint();
    const r = await f();
    into.push(Number(process.hrtime.bigint() - t0) / 1e6);
    return r;
  };
  try {
    await plugin.search(queries[0].text, window); // warm-up: first calls load sessions and JIT
    await pipeline.search({ ...base, query: queries[0].text });
    for (const [i, q] of queries.entries()) {
      const runDirect = () => time(() => pipeline.search({ ...base, query: q.text }).then((r) => r.hits.map((h) => h.id)), direct);
      const runPlugin = () => time(() => plugin.search(q.text, window), through);
      const [a, b] = i % 2 ? [await runPlugin(), await runDirect()] : [await runDirect(), await runPlugin()];
      if (JSON.stringify(a) === JSON.stringify(b)) agreed++;
    }
  } finally {
    await plugin.close();
    await app.close();
  }
  const diff = through.map((t, i) => t - direct[i]);
  const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
  process.stdout.write(
    JSON.stringify({
      collection: col.name,
      queries: queries.length,
      window,
      direct_ms: stats(direct),
      es_plugin_ms: stats(through),
      added_ms: stats(diff),
      same_order: `${agreed}/${queries.length}`,
      at: new Date().toISOString(),
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
