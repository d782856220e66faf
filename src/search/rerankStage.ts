import { blendScores } from '../rerank/blend';
import { BlendWeights } from '../tasks/rerankSettings';
import { SearchHit, StageScores } from './query';

/** A first-stage hit's raw scores: those a fused source collected, else its own score under its stage. */
export function stageScoresOf(h: SearchHit): StageScores {
  if (h.scores) return h.scores;
  if (h.stage === 'dense' || h.stage === 'elasticsearch-knn') return { dense: h.score };
  if (h.stage === 'elasticsearch') return { bm25: h.score };
  return {};
}

/**
 * Orders the window by the re-ranker: raw scores, or the blend of the re-ranker with the first-stage
 * scores (the contract in docs/serving.md) when weights are given. The first stages present are those
 * that scored any hit of the window.
 */
export function rerankWindow(hits: SearchHit[], rerankScores: number[], weights: BlendWeights | undefined): SearchHit[] {
  const withScores = hits.map((h, i) => ({ ...h, scores: { ...stageScoresOf(h), rerank: rerankScores[i] } }));
  const present = (['dense', 'bm25'] as const).filter((s) => withScores.some((h) => h.scores[s] !== undefined));
  const final = weights
    ? blendScores(
        withScores.map((h) => h.scores),
        weights,
        [...present],
      )
    : rerankScores;
  return withScores.map((h, i) => ({ ...h, score: final[i], stage: 'rerank' as const })).sort((a, b) => b.score - a.score);
}
