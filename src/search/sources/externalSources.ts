import { Aside } from '../../aside';
import { AsideError } from '../../errors';
import { CandidateList, CandidateSource, elapsedMs, SourceRequest } from './source';

type ExternalHit = { id: string; score: number; title?: string; text?: string };

/** BM25 (or any lexical) candidates from outside the process, e.g. Elasticsearch. */
export interface LexicalCandidates {
  search(query: string, k: number, filter?: { ids?: string[] }): Promise<ExternalHit[]>;
}

/** Nearest neighbours by a query vector from outside the process, e.g. Elasticsearch kNN. */
export interface VectorCandidates {
  knn(vector: Float32Array, k: number, task: { id: string; version: string }, filter?: { ids?: string[] }): Promise<ExternalHit[]>;
}

const notConfigured = () => new AsideError('unavailable', 'Elasticsearch is not configured (set ASIDE_ES_URL)');

/** Lexical candidates (stage `elasticsearch`); unavailable (503) when no lexical backend is configured. */
export class LexicalSource implements CandidateSource {
  readonly name = 'elasticsearch';

  constructor(private readonly lexical?: LexicalCandidates) {}

  async candidates(req: SourceRequest): Promise<CandidateList> {
    if (!this.lexical) throw notConfigured();
    const t = process.hrtime.bigint();
    const hits = await this.lexical.search(req.query, req.window, req.filter);
    return { hits: hits.map((h) => ({ ...h, stage: 'elasticsearch' as const })), timings: { elasticsearch: elapsedMs(t) } };
  }
}

/** kNN candidates from an external vector index, queried with this server's embedding of the query. */
export class ExternalKnnSource implements CandidateSource {
  readonly name = 'elasticsearch-knn';

  constructor(
    private readonly app: Aside,
    private readonly vectors?: VectorCandidates,
  ) {}

  async candidates(req: SourceRequest): Promise<CandidateList> {
    if (!this.vectors) throw notConfigured();
    const t = process.hrtime.bigint();
    const { task, vectors } = await this.app.embed([req.query], 'query', req.task);
    const retriever = { id: task.id, version: task.version };
    const hits = await this.vectors.knn(vectors[0], req.window, retriever, req.filter);
    return { hits: hits.map((h) => ({ ...h, stage: 'elasticsearch-knn' as const })), retriever, timings: { 'elasticsearch-knn': elapsedMs(t) } };
  }
}
