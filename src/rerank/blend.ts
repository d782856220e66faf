import { BlendWeights } from '../tasks/rerankSettings';

/** One hit's raw score at each stage it went through (absent: the stage did not return it). */
export type StageScores = Partial<Record<Stage, number>>;

type Stage = 'rerank' | 'dense' | 'bm25';

/** Per-query min-max normalisation over the window; all 0 when max == min; a missing score is 0. */
export function minMaxNormalize(xs: (number | undefined)[]): number[] {
  const seen = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (!seen.length) return xs.map(() => 0);
  const lo = Math.min(...seen);
  const hi = Math.max(...seen);
  return xs.map((x) => (x === undefined || !Number.isFinite(x) || hi === lo ? 0 : (x - lo) / (hi - lo)));
}

/**
 * The blend contract shared with the Elasticsearch plugin: normalise each stage's scores over the
 * re-ranked window, then a weighted sum divided by the sum of the weights of the stages present in
 * the request (a stage the request did not run does not dilute the others).
 */
export function blendScores(hits: StageScores[], weights: BlendWeights, present: Stage[]): number[] {
  const stages = (['rerank', 'dense', 'bm25'] as Stage[]).filter((s) => (s === 'rerank' || present.includes(s)) && (weights[s] ?? 0) > 0);
  const total = stages.reduce((n, s) => n + (weights[s] ?? 0), 0);
  const out = new Array<number>(hits.length).fill(0);
  if (total <= 0) return out;
  for (const s of stages) {
    const norm = minMaxNormalize(hits.map((h) => h[s]));
    const w = (weights[s] ?? 0) / total;
    norm.forEach((v, i) => (out[i] += w * v));
  }
  return out;
}
