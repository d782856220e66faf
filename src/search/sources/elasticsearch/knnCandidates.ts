import { Client, estypes } from '@elastic/elasticsearch';
import { Candidate, CandidateFilter, clientUrl } from './bm25Candidates';
import { fromEsError } from './errors';

/** The dense_vector field that holds one task version's embeddings: `vec_<task>_<version>` (sanitised). */
export function vectorFieldFor(task?: { id: string; version?: string }): string {
  if (!task) return 'embedding';
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  return `vec_${clean(task.id)}${task.version ? `_${clean(task.version)}` : ''}`;
}

export interface KnnOptions {
  index: string;
  /** A fixed field, or one per task version (default: vectorFieldFor(task), or `embedding` without a task). */
  field?: string | ((task?: { id: string; version?: string }) => string);
  /** HNSW candidates per shard: max(k × factor, 100), at most 10000 (default factor 10). */
  numCandidatesFactor?: number;
  titleField?: string;
  textField?: string;
  timeoutMs?: number;
}

/** kNN candidates from Elasticsearch's HNSW index; structurally a `VectorCandidates`. */
export class ElasticsearchKnn {
  private readonly url: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly opts: KnnOptions,
  ) {
    this.url = clientUrl(client);
  }

  fieldFor(task?: { id: string; version?: string }): string {
    const f = this.opts.field;
    return typeof f === 'function' ? f(task) : (f ?? vectorFieldFor(task));
  }

  /** The `k` nearest documents to `vector`; scores are Elasticsearch's (cosine: (1 + cos) / 2). */
  async knn(vector: Float32Array | number[], k: number, task?: { id: string; version?: string }, filter?: CandidateFilter): Promise<Candidate[]> {
    const titleField = this.opts.titleField ?? 'title';
    const textField = this.opts.textField ?? 'text';
    const filters: estypes.QueryDslQueryContainer[] = [];
    if (filter?.ids) filters.push({ ids: { values: filter.ids } });
    if (filter?.query) filters.push(filter.query);
    const numCandidates = Math.min(10000, Math.max(k * (this.opts.numCandidatesFactor ?? 10), 100));
    try {
      const res = await this.client.search<Record<string, unknown>>(
        {
          index: this.opts.index,
          knn: { field: this.fieldFor(task), query_vector: Array.from(vector), k, num_candidates: Math.max(numCandidates, k), ...(filters.length ? { filter: filters } : {}) },
          size: k,
          _source: [titleField, textField],
        },
        this.opts.timeoutMs ? { requestTimeout: this.opts.timeoutMs } : undefined,
      );
      return res.hits.hits.map((h) => ({ id: String(h._id), score: h._score ?? 0, title: String(h._source?.[titleField] ?? ''), text: String(h._source?.[textField] ?? '') }));
    } catch (err) {
      throw fromEsError(err, `kNN search in ${this.opts.index}`, this.url);
    }
  }
}
