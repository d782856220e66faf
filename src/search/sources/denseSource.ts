import { Aside } from '../../aside';
import { CandidateList, CandidateSource, elapsedMs, SourceRequest } from './source';

/** Nearest neighbours in the retriever task's own HNSW index of the served collection. */
export class DenseSource implements CandidateSource {
  readonly name = 'dense';

  constructor(private readonly app: Aside) {}

  async candidates(req: SourceRequest): Promise<CandidateList> {
    const t = process.hrtime.bigint();
    const ids = req.filter?.ids ? new Set(req.filter.ids) : undefined;
    const r = await this.app.denseSearch(req.query, req.window, req.task, ids ? (id) => ids.has(id) : undefined);
    return { hits: r.hits.map((h) => ({ ...h, stage: 'dense' as const })), retriever: { id: r.task.id, version: r.task.version }, timings: { dense: elapsedMs(t) } };
  }
}
