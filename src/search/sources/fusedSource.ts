import { SearchHit, StageScores } from '../query';
import { stageScoresOf } from '../rerankStage';
import { reciprocalRankFusion } from '../fusion';
import { CandidateList, CandidateSource, SourceRequest } from './source';

/** Several sources run in parallel and fused by reciprocal rank (stage `hybrid`). */
export class FusedSource implements CandidateSource {
  constructor(
    readonly name: string,
    private readonly parts: CandidateSource[],
  ) {}

  async candidates(req: SourceRequest): Promise<CandidateList> {
    const lists = await Promise.all(this.parts.map((p) => p.candidates(req)));
    const byId = new Map<string, SearchHit>(lists.flatMap((l) => l.hits.map((h) => [h.id, h] as const)));
    // Each part's raw score survives fusion, for blending after re-ranking.
    const scores = new Map<string, StageScores>();
    for (const h of lists.flatMap((l) => l.hits)) scores.set(h.id, { ...scores.get(h.id), ...stageScoresOf(h) });
    const hits = reciprocalRankFusion(
      lists.map((l) => l.hits.map((h) => h.id)),
      req.rrfK,
    )
      .slice(0, req.window)
      .map((f) => ({ ...byId.get(f.id)!, score: f.score, stage: 'hybrid' as const, scores: scores.get(f.id) }));
    return { hits, retriever: lists.find((l) => l.retriever)?.retriever, timings: Object.assign({}, ...lists.map((l) => l.timings)) };
  }
}
