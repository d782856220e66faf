import { SearchHit } from '../query';
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
    const hits = reciprocalRankFusion(
      lists.map((l) => l.hits.map((h) => h.id)),
      req.rrfK,
    )
      .slice(0, req.window)
      .map((f) => ({ ...byId.get(f.id)!, score: f.score, stage: 'hybrid' as const }));
    return { hits, retriever: lists.find((l) => l.retriever)?.retriever, timings: Object.assign({}, ...lists.map((l) => l.timings)) };
  }
}
