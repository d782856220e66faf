import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCollection } from '../data/beir';
import { loadConfig } from '../config';
import { searchQuery } from '../search/query';
import { compose } from '../compose';
import { score, Run } from '../eval/metrics';
import { asideHome } from '../paths';
import { progress } from '../util/progress';
import { localNodeUrl } from '../search/sources/elasticsearch/localNodeUrl';
import { parseBlendFlag, median } from '../rerank/evalFlags';
import { LATE_INTERACTION } from '../tasks/manifest';
import { ElasticsearchCandidates } from '../search/sources/elasticsearch/bm25Candidates';
import { elasticsearchSources } from '../search/sources/elasticsearch/sources';
import { createEsClient, esConfigOf } from '../search/sources/elasticsearch/client';
import { EsPluginReranker, percentile } from './evalThroughEsPlugin';

/**
 * `eval --collection DIR [--model ID] [--task ID] [--candidates dense|elasticsearch|hybrid|elasticsearch-knn]
 * [--rerank TASK|default] [--blend rerank=W,bm25=W,dense=W|false] [--window N] [--hits-out FILE] [--depth N]
 * [--through direct|es-plugin]`: runs every judged query through the same SearchPipeline the HTTP
 * server uses and prints one JSON line with nDCG@10, Recall@100, MRR@10 and per-query latency p50/p99 (also
 * appended to .aside/results/eval.jsonl). `--depth` ranks that many (default 100; the re-rank window is
 * max(depth + 1, window)). `--through es-plugin` runs each query as one Elasticsearch _search with the
 * plugin's aside_rerank retriever over BM25 instead (same blend: the flag's, else the manifest's). Elasticsearch modes need ASIDE_ES_URL and an index written by
 * `npm run es -- index`.
 */
export default async function evalCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      collection: { type: 'string' },
      model: { type: 'string' },
      task: { type: 'string' },
      candidates: { type: 'string', default: 'dense' },
      rerank: { type: 'string' },
      window: { type: 'string', default: '100' },
      split: { type: 'string', default: 'test' },
      'tasks-dir': { type: 'string' },
      out: { type: 'string' },
      blend: { type: 'string' },
      'hits-out': { type: 'string' },
      depth: { type: 'string', default: '100' },
      through: { type: 'string', default: 'direct' },
    },
  });
  if (!values.collection) throw new Error('--collection <BEIR dir> is required');
  const through = values.through;
  if (through !== 'direct' && through !== 'es-plugin') throw new Error('--through is direct or es-plugin');
  if (through === 'es-plugin' && (values.candidates !== 'elasticsearch' || !values.rerank)) throw new Error('--through es-plugin needs --candidates elasticsearch and --rerank <task|default>');
  const depth = Number(values.depth);
  const collection = await loadCollection(values.collection, values.split);
  let config = loadConfig({ model: values.model, workers: 0, tasksDir: values['tasks-dir'], defaultRetriever: values.task });
  if (values.candidates !== 'dense' && !config.esUrl) {
    // Without ASIDE_ES_URL, Elasticsearch modes use the local node of `npm run es -- start`.
    const url = localNodeUrl();
    if (!url) throw new Error(`--candidates ${values.candidates} needs ASIDE_ES_URL or a local node (\`npm run es -- start\`)`);
    config = { ...config, esUrl: url };
  }
  // The evaluated task is the default retriever; the start indexes nothing: what this run needs is built below, before the clock.
  const { app, pipeline } = await compose(config, { collection, indexAtStart: false });
  let viaPlugin: EsPluginReranker | undefined;
  try {
    const window = Number(values.window);
    // --rerank default: whatever the server's default re-ranker is; --blend omitted: its manifest's blend.
    const rerank = values.rerank ? { ...(values.rerank === 'default' ? {} : { task: values.rerank }), ...(values.blend !== undefined ? { blend: parseBlendFlag(values.blend) } : {}) } : false;
    const base = searchQuery({ query: 'x', k: 100, task: values.task, candidates: values.candidates, window, rerank, include_text: false });
    // Build (or load) the retriever's index before the clock starts: a task's first search would build it.
    if (values.candidates === 'dense' || values.candidates === 'hybrid') await app.corpusFor(app.registry.get(values.task ?? app.registry.defaultId('retriever')!));
    const rerankTask = values.rerank ? app.registry.get(values.rerank === 'default' ? app.registry.defaultId('reranker')! : values.rerank) : undefined;
    if (rerankTask?.kind === LATE_INTERACTION) await app.late.storeFor(rerankTask);
    if (through === 'es-plugin') {
      const bm25 = elasticsearchSources(app, config).lexical;
      if (!(bm25 instanceof ElasticsearchCandidates)) throw new Error('--through es-plugin needs Elasticsearch BM25 candidates');
      // The blend /v1/search would apply (the flag's, else the manifest's) in the plugin's terms: BM25 is the first stage.
      const weights = rerank && rerank.blend !== undefined ? rerank.blend : rerankTask?.manifest?.blend?.weights;
      const blend = weights ? { rerank: weights.rerank, first_stage: weights.bm25 ?? 0 } : undefined;
      viaPlugin = await EsPluginReranker.start(app, pipeline, createEsClient(esConfigOf(config)!), bm25, { task: rerankTask?.id, window, blend });
    }
    const rerankMs: number[] = [];
    const hitsOut = values['hits-out'] ? fs.openSync(values['hits-out'], 'w') : undefined;
    const run: Run = new Map();
    const bar = progress(`search ${collection.name}`, collection.queries.length, 'queries');
    const started = Date.now();
    let retriever = '';
    let reranker: string | undefined;
    let blendUsed: unknown = viaPlugin?.blend;
    if (viaPlugin && rerankTask) reranker = `${rerankTask.id}@${rerankTask.version}`;
    const latencies: number[] = [];
    for (const q of collection.queries) {
      const t0 = process.hrtime.bigint();
      if (viaPlugin) {
        run.set(q.id, (await viaPlugin.search(q.text, depth + 1)).filter((id) => id !== q.id).slice(0, depth));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        bar.tick();
        continue;
      }
      // depth + 1: a query that is itself a corpus document (ArguAna) must not count itself (BEIR/MTEB).
      const r = await pipeline.search({ ...base, query: q.text, k: depth + 1 });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      retriever = r.task ? `${r.task}@${r.task_version}` : '';
      reranker = r.rerank ? `${r.rerank.task}@${r.rerank.task_version}` : undefined;
      blendUsed = r.rerank?.blend;
      run.set(
        q.id,
        r.hits
          .map((h) => h.id)
          .filter((id) => id !== q.id)
          .slice(0, depth),
      );
      if (r.timings_ms.rerank !== undefined) rerankMs.push(r.timings_ms.rerank);
      if (hitsOut !== undefined) fs.writeSync(hitsOut, JSON.stringify({ query: q.id, hits: r.hits.filter((h) => h.id !== q.id).map((h) => ({ id: h.id, score: h.score, scores: h.scores })) }) + '\n');
      bar.tick();
    }
    bar.stop();
    if (hitsOut !== undefined) fs.closeSync(hitsOut);
    const result = {
      collection: collection.name,
      split: collection.split,
      model: app.spec.id,
      task: retriever || null,
      candidates: values.candidates,
      rerank: reranker ?? null,
      window: values.rerank ? window : null,
      blend: blendUsed ?? null,
      ...(depth !== 100 ? { depth } : {}),
      ...(viaPlugin ? { through: 'es-plugin' } : {}),
      ...score(run, collection.qrels),
      rerank_ms_p50: rerankMs.length ? Math.round(median(rerankMs) * 10) / 10 : null,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      provider: app.base.info.provider,
      at: new Date().toISOString(),
    };
    const out = values.out ?? path.join(asideHome(), 'results', 'eval.jsonl');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.appendFileSync(out, JSON.stringify(result) + '\n');
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await viaPlugin?.close();
    await app.close();
  }
}
