import { Aside } from '../aside';
import { AsideError } from '../errors';
import { TitledText } from '../text/documentText';
import { reciprocalRankFusion } from './fusion';
import { SearchRequest } from '../http/schemas';
import { log } from '../log';

/** BM25 (or any lexical) candidates from outside the process, e.g. Elasticsearch. */
export interface LexicalCandidates {
  search(query: string, k: number, filter?: { ids?: string[] }): Promise<{ id: string; score: number; title?: string; text?: string }[]>;
}

/** Nearest neighbours by a query vector from outside the process, e.g. Elasticsearch kNN. */
export interface VectorCandidates {
  knn(vector: Float32Array, k: number, task: { id: string; version: string }, filter?: { ids?: string[] }): Promise<{ id: string; score: number; title?: string; text?: string }[]>;
}

export interface SearchHit {
  id: string;
  score: number;
  stage: 'dense' | 'elasticsearch' | 'hybrid' | 'elasticsearch-knn' | 'rerank';
  title?: string;
  text?: string;
}

export interface SearchResponse {
  task: string;
  task_version: string;
  candidates: string;
  rerank?: { task: string; task_version: string };
  fell_back?: { from: string; to: string; reason: string };
  hits: SearchHit[];
  timings_ms: Record<string, number>;
}

const ms = (t0: bigint) => Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;

/**
 * candidates (dense HNSW | Elasticsearch BM25 | both fused by RRF | Elasticsearch kNN) → optional
 * cross-encoder re-ranking of the top `window` → top k. Each stage's time is reported.
 */
export class SearchPipeline {
  constructor(
    private readonly app: Aside,
    private readonly lexical?: LexicalCandidates,
    private readonly vectors?: VectorCandidates,
  ) {}

  async search(req: SearchRequest): Promise<SearchResponse> {
    const t0 = process.hrtime.bigint();
    const timings: Record<string, number> = {};
    const window = Math.max(req.k, req.rerank ? req.window : req.k);
    const ids = req.filter?.ids ? new Set(req.filter.ids) : undefined;
    const filter = ids ? (id: string) => ids.has(id) : undefined;
    let candidates = req.candidates;
    let fellBack: SearchResponse['fell_back'];
    let retriever = { id: '', version: '' };
    let hits: SearchHit[] = [];

    const dense = async () => {
      const t = process.hrtime.bigint();
      const r = await this.app.denseSearch(req.query, window, req.task, filter);
      retriever = { id: r.task.id, version: r.task.version };
      timings.dense = ms(t);
      return r.hits.map((h) => ({ ...h, stage: 'dense' as const }));
    };
    const lexical = async () => {
      if (!this.lexical) throw new AsideError('unavailable', 'Elasticsearch is not configured (set ASIDE_ES_URL)');
      const t = process.hrtime.bigint();
      const r = await this.lexical.search(req.query, window, req.filter);
      timings.elasticsearch = ms(t);
      return r.map((h) => ({ ...h, stage: 'elasticsearch' as const }));
    };
    const knn = async () => {
      if (!this.vectors) throw new AsideError('unavailable', 'Elasticsearch is not configured (set ASIDE_ES_URL)');
      const t = process.hrtime.bigint();
      const { task, vectors } = await this.app.embed([req.query], 'query', req.task);
      retriever = { id: task.id, version: task.version };
      const r = await this.vectors.knn(vectors[0], window, retriever, req.filter);
      timings['elasticsearch-knn'] = ms(t);
      return r.map((h) => ({ ...h, stage: 'elasticsearch-knn' as const }));
    };

    try {
      if (candidates === 'dense') hits = await dense();
      else if (candidates === 'elasticsearch') hits = await lexical();
      else if (candidates === 'elasticsearch-knn') hits = await knn();
      else {
        const [d, l] = await Promise.all([dense(), lexical()]);
        const byId = new Map<string, SearchHit>([...d, ...l].map((h) => [h.id, h]));
        hits = reciprocalRankFusion([d.map((h) => h.id), l.map((h) => h.id)], req.rrf_k)
          .slice(0, window)
          .map((f) => ({ ...byId.get(f.id)!, score: f.score, stage: 'hybrid' as const }));
      }
    } catch (err) {
      if (!(err instanceof AsideError && err.type === 'unavailable') || candidates === 'dense' || !req.fallback) throw err;
      log.warn({ from: candidates, reason: err.message }, 'candidates unavailable; falling back to dense');
      fellBack = { from: candidates, to: 'dense', reason: err.message };
      candidates = 'dense';
      hits = await dense();
    }

    let rerankInfo: SearchResponse['rerank'];
    if (req.rerank && hits.length) {
      const t = process.hrtime.bigint();
      const r = await this.app.rerank(req.query, hits.map((h) => this.documentOf(h)), req.rerank.task);
      rerankInfo = { task: r.task.id, task_version: r.task.version };
      hits = hits.map((h, i) => ({ ...h, score: r.scores[i], stage: 'rerank' as const })).sort((a, b) => b.score - a.score);
      timings.rerank = ms(t);
    }
    hits = hits.slice(0, req.k).map((h) => {
      const d = this.app.doc(h.id);
      return req.include_text ? { ...h, title: h.title ?? d?.title, text: h.text ?? d?.text } : { id: h.id, score: h.score, stage: h.stage };
    });
    timings.total = ms(t0);
    return { task: retriever.id || (req.task ?? ''), task_version: retriever.version, candidates, ...(rerankInfo ? { rerank: rerankInfo } : {}), ...(fellBack ? { fell_back: fellBack } : {}), hits, timings_ms: timings };
  }

  /** The served collection's copy of a hit, else the title and text its source returned. */
  private documentOf(h: SearchHit): TitledText {
    return this.app.doc(h.id) ?? { title: h.title, text: h.text ?? '' };
  }
}
