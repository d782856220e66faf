import { Qrels } from '../data/beir';

/**
 * IR metrics with trec_eval semantics: graded gains (rel) in DCG with log2(rank+1) discount, the ideal
 * DCG from all judged documents of the query, and recall/MRR counting only rel > 0 as relevant.
 */
export type Run = Map<string, string[]>;

export function ndcgAt(ranked: string[], judged: Map<string, number>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((d, i) => {
    const rel = judged.get(d) ?? 0;
    if (rel > 0) dcg += rel / Math.log2(i + 2);
  });
  const ideal = [...judged.values()]
    .filter((r) => r > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idcg = ideal.reduce((s, rel, i) => s + rel / Math.log2(i + 2), 0);
  return idcg > 0 ? dcg / idcg : 0;
}

export function recallAt(ranked: string[], judged: Map<string, number>, k: number): number {
  const relevant = [...judged.entries()].filter(([, r]) => r > 0).map(([d]) => d);
  if (!relevant.length) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((d) => top.has(d)).length / relevant.length;
}

export function mrrAt(ranked: string[], judged: Map<string, number>, k: number): number {
  const i = ranked.slice(0, k).findIndex((d) => (judged.get(d) ?? 0) > 0);
  return i >= 0 ? 1 / (i + 1) : 0;
}

export interface Scores {
  'ndcg@10': number;
  'recall@100': number;
  'mrr@10': number;
  queries: number;
}

/** Mean over the queries that have at least one relevant judgement (as trec_eval and BEIR do). */
export function score(run: Run, qrels: Qrels): Scores {
  let n = 0;
  const sum = { ndcg: 0, recall: 0, mrr: 0 };
  for (const [q, judged] of qrels) {
    if (![...judged.values()].some((r) => r > 0)) continue;
    const ranked = run.get(q) ?? [];
    n++;
    sum.ndcg += ndcgAt(ranked, judged, 10);
    sum.recall += recallAt(ranked, judged, 100);
    sum.mrr += mrrAt(ranked, judged, 10);
  }
  const r = (x: number) => Math.round((x / Math.max(n, 1)) * 1e4) / 1e4;
  return { 'ndcg@10': r(sum.ndcg), 'recall@100': r(sum.recall), 'mrr@10': r(sum.mrr), queries: n };
}
