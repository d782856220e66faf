import { Aside } from '../aside';
import { AsideError } from '../errors';
import { TitledText } from '../text/documentText';
import { log } from '../log';
import { SearchHit, SearchQuery, SearchResponse } from './query';
import { CandidateList, CandidateSources, elapsedMs } from './sources/source';
import { rerankWindow } from './rerankStage';

/**
 * The search service: candidates from a named source (falling back to dense when asked and the source
 * is unavailable) → optional re-ranking of the top `window` → top k. Each stage's time is reported.
 */
export class SearchPipeline {
  constructor(
    private readonly app: Aside,
    readonly sources: CandidateSources,
  ) {}

  async search(q: SearchQuery): Promise<SearchResponse> {
    const t0 = process.hrtime.bigint();
    const window = Math.max(q.k, q.rerank ? q.window : q.k);
    const req = { query: q.query, window, task: q.task, filter: q.filter, rrfK: q.rrf_k };
    let candidates = q.candidates;
    let fellBack: SearchResponse['fell_back'];
    let list: CandidateList;
    try {
      list = await this.sources.get(candidates).candidates(req);
    } catch (err) {
      if (!(err instanceof AsideError && err.type === 'unavailable') || candidates === 'dense' || !q.fallback) throw err;
      log.warn({ from: candidates, reason: err.message }, 'candidates unavailable; falling back to dense');
      fellBack = { from: candidates, to: 'dense', reason: err.message };
      candidates = 'dense';
      list = await this.sources.get('dense').candidates(req);
    }
    const timings: Record<string, number> = { ...list.timings };
    let hits: SearchHit[] = list.hits;

    let rerankInfo: SearchResponse['rerank'];
    if (q.rerank && hits.length) {
      const t = process.hrtime.bigint();
      const r = await this.app.rerank(
        q.query,
        hits.map((h) => this.documentOf(h)),
        q.rerank.task,
      );
      const blend = q.rerank.blend ?? r.task.manifest?.blend?.weights ?? false;
      rerankInfo = { task: r.task.id, task_version: r.task.version, blend };
      hits = rerankWindow(hits, r.scores, blend || undefined);
      timings.rerank = elapsedMs(t);
    }
    hits = hits.slice(0, q.k).map((h) => {
      const d = this.app.doc(h.id);
      const { scores, ...hit } = h;
      const stages = h.stage === 'rerank' ? { scores } : {};
      return q.include_text ? { ...hit, title: h.title ?? d?.title, text: h.text ?? d?.text, ...stages } : { id: h.id, score: h.score, stage: h.stage, ...stages };
    });
    timings.total = elapsedMs(t0);
    const retriever = list.retriever;
    return {
      task: retriever?.id ?? q.task ?? '',
      task_version: retriever?.version ?? '',
      candidates,
      ...(rerankInfo ? { rerank: rerankInfo } : {}),
      ...(fellBack ? { fell_back: fellBack } : {}),
      hits,
      timings_ms: timings,
    };
  }

  /** The served collection's copy of a hit (its id lets late interaction use stored states), else the title and text its source returned. */
  private documentOf(h: SearchHit): TitledText & { id?: string } {
    return this.app.doc(h.id) ?? { title: h.title, text: h.text ?? '' };
  }
}
