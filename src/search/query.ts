import type { BlendWeights } from '../tasks/rerankSettings';

/**
 * The search domain: what a search asks for and what it answers, independent of any wire format.
 * HTTP validates its JSON into a SearchQuery (src/http/schemas.ts uses these defaults); the CLI builds
 * one with `searchQuery()`.
 */
export interface SearchQuery {
  query: string;
  k: number;
  /** Retriever task (default: the server's default retriever). */
  task?: string;
  /** Name of a registered candidate source: dense, elasticsearch, hybrid, elasticsearch-knn, … */
  candidates: string;
  /** Candidates re-ranked (and fused) before the top k are returned. */
  window: number;
  /** `blend` omitted: the re-ranker manifest's default blend; false: raw re-ranker order. */
  rerank: false | { task?: string; blend?: BlendWeights | false };
  /** On an unavailable source, answer from dense candidates instead of 503. */
  fallback: boolean;
  filter?: { ids?: string[] };
  rrf_k: number;
  include_text: boolean;
}

export const SEARCH_DEFAULTS = { k: 10, candidates: 'dense', window: 100, rerank: false, fallback: false, rrf_k: 60, include_text: true } as const;

export function searchQuery(q: Partial<SearchQuery> & { query: string }): SearchQuery {
  return { ...SEARCH_DEFAULTS, ...q };
}

export type Stage = 'dense' | 'elasticsearch' | 'hybrid' | 'elasticsearch-knn' | 'rerank';

export interface SearchHit {
  id: string;
  score: number;
  stage: Stage;
  title?: string;
  text?: string;
  /** Raw score of each stage the hit went through (first stages; the re-ranker's once re-ranked). */
  scores?: StageScores;
}

/** A hit's raw scores by blendable stage (Elasticsearch kNN scores are dense similarities). */
export type StageScores = Partial<Record<'dense' | 'bm25' | 'rerank', number>>;

export interface SearchResponse {
  task: string;
  task_version: string;
  candidates: string;
  rerank?: { task: string; task_version: string; blend: BlendWeights | false };
  fell_back?: { from: string; to: string; reason: string };
  hits: SearchHit[];
  timings_ms: Record<string, number>;
}
