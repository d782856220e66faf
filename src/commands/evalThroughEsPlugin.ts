import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import { Aside } from '../aside';
import { AsideError } from '../errors';
import { createHttpApp, listen } from '../http/server';
import { SearchPipeline } from '../search/pipeline';
import { ElasticsearchCandidates } from '../search/sources/elasticsearch/bm25Candidates';
import { fromEsError } from '../search/sources/elasticsearch/errors';

/**
 * `eval --through es-plugin`: each query is ONE Elasticsearch `_search` whose `aside_rerank` retriever
 * (the Aside plugin) re-ranks the same BM25 query the direct path uses, calling this process's Aside
 * over HTTP. Needs the plugin installed in the node (`npm run es -- plugin build`, then `start`).
 */
export class EsPluginReranker {
  private constructor(
    private readonly client: Client,
    private readonly bm25: ElasticsearchCandidates,
    private readonly server: http.Server,
    private readonly opts: { task?: string; window: number; blend?: { rerank: number; first_stage: number } },
  ) {}

  /** Serves `app` on a free local port and points the node's `aside.url` at it (a transient cluster setting). */
  static async start(
    app: Aside,
    pipeline: SearchPipeline,
    client: Client,
    bm25: ElasticsearchCandidates,
    opts: { task?: string; window: number; blend?: { rerank: number; first_stage: number } },
  ): Promise<EsPluginReranker> {
    const server = await listen(createHttpApp(app, pipeline), '127.0.0.1', 0, app.config);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await client.cluster.putSettings({ transient: { 'aside.url': url } });
    } catch (err) {
      server.close();
      const msg = String((err as Error).message);
      if (/aside\.url/.test(msg)) throw new AsideError('unavailable', `the Elasticsearch node has no Aside plugin (build it with \`npm run es -- plugin build\`, then restart the node): ${msg}`);
      throw fromEsError(err, 'setting aside.url');
    }
    return new EsPluginReranker(client, bm25, server, opts);
  }

  /** Ids of the top `k`, re-ranked by Aside over BM25's top max(k, window) inside Elasticsearch. */
  async search(query: string, k: number): Promise<string[]> {
    const body = {
      retriever: {
        aside_rerank: {
          retriever: { standard: { query: this.bm25.buildQuery(query) } },
          query,
          fields: ['text'],
          title_field: 'title',
          rank_window_size: Math.max(k, this.opts.window),
          ...(this.opts.task ? { task: this.opts.task } : {}),
          ...(this.opts.blend ? { blend: this.opts.blend } : {}),
        },
      },
      size: k,
      _source: false,
      track_total_hits: false,
    };
    try {
      const res = await this.client.transport.request<{ hits: { hits: { _id: string }[] } }>({ method: 'POST', path: `/${encodeURIComponent(this.bm25.index)}/_search`, body });
      return res.hits.hits.map((h) => h._id);
    } catch (err) {
      throw fromEsError(err, `aside_rerank search in ${this.bm25.index}`);
    }
  }

  /** The blend the retriever is asked for (in the plugin's terms), or undefined for raw re-ranker order. */
  get blend(): { rerank: number; first_stage: number } | undefined {
    return this.opts.blend;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** p-th percentile (nearest rank) of latencies in ms, rounded to 0.1 ms. */
export function percentile(ms: number[], p: number): number {
  if (!ms.length) return 0;
  const sorted = [...ms].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] * 10) / 10;
}
