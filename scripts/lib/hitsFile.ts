import fs from 'node:fs';
import { Qrels } from '../../src/data/beir';
import { blendScores } from '../../src/rerank/blend';
import { BlendWeights } from '../../src/tasks/rerankSettings';
import { ndcgAt } from '../../src/eval/metrics';

/** One query's ranked hits with every stage's raw score, as `eval --hits-out` writes them. */
export interface QueryHits {
  query: string;
  hits: { id: string; score: number; scores?: { rerank?: number; dense?: number; bm25?: number } }[];
}

export function readHits(file: string): QueryHits[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as QueryHits);
}

/** The ranking a blend gives (rerank must be in every hit's scores); without weights, the file's own order. */
export function rankWith(q: QueryHits, weights?: BlendWeights, present: ('dense' | 'bm25')[] = []): string[] {
  if (!weights) return q.hits.map((h) => h.id);
  const s = blendScores(
    q.hits.map((h) => ({ ...h.scores, rerank: h.scores?.rerank ?? 0 })),
    weights,
    present,
  );
  return q.hits
    .map((h, i) => ({ id: h.id, s: s[i] }))
    .sort((a, b) => b.s - a.s)
    .map((x) => x.id);
}

/** Per-query nDCG@10 over the judged queries of `qrels` (0 for a judged query missing from the run). */
export function perQueryNdcg(runs: Map<string, string[]>, qrels: Qrels, only?: Set<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [q, judged] of qrels) {
    if (only && !only.has(q)) continue;
    if (![...judged.values()].some((r) => r > 0)) continue;
    out.set(q, ndcgAt(runs.get(q) ?? [], judged, 10));
  }
  return out;
}

export const mean = (xs: Iterable<number>): number => {
  let s = 0;
  let n = 0;
  for (const x of xs) {
    s += x;
    n++;
  }
  return n ? s / n : 0;
};

/**
 * Two-sided paired randomisation test (sign flips of per-query differences, fixed seed): the
 * probability of a mean difference at least this large if A and B were exchangeable.
 */
export function pairedRandomization(a: Map<string, number>, b: Map<string, number>, trials = 10000, seed = 42): { diff: number; p: number; queries: number } {
  const d = [...a.keys()].filter((q) => b.has(q)).map((q) => b.get(q)! - a.get(q)!);
  const observed = Math.abs(mean(d));
  let x = seed >>> 0;
  const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let hits = 0;
  for (let t = 0; t < trials; t++) {
    let s = 0;
    for (const v of d) s += rand() < 0.5 ? -v : v;
    if (Math.abs(s / d.length) >= observed - 1e-12) hits++;
  }
  return { diff: mean(d), p: (hits + 1) / (trials + 1), queries: d.length };
}
