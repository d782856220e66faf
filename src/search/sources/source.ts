import { AsideError } from '../../errors';
import { SearchHit } from '../query';

/** What every candidate source gets besides the query text. */
export interface SourceRequest {
  query: string;
  /** How many candidates to return. */
  window: number;
  task?: string;
  filter?: { ids?: string[] };
  rrfK: number;
}

export interface CandidateList {
  hits: SearchHit[];
  /** The retriever task version that produced the hits, when one did. */
  retriever?: { id: string; version: string };
  /** Time of each stage, by stage name. */
  timings: Record<string, number>;
}

/** A first stage of search: any place candidates come from (an index here, Elasticsearch, a fusion of others). */
export interface CandidateSource {
  readonly name: string;
  candidates(req: SourceRequest): Promise<CandidateList>;
}

/**
 * Candidate sources by name. The composition root registers the standard ones; adding a source is one
 * file implementing CandidateSource plus one `register` call.
 */
export class CandidateSources {
  private readonly byName = new Map<string, CandidateSource>();

  register(source: CandidateSource): this {
    this.byName.set(source.name, source);
    return this;
  }

  get(name: string): CandidateSource {
    const s = this.byName.get(name);
    if (!s) throw new AsideError('validation', `unknown candidates '${name}' (known: ${this.names().join(', ')})`);
    return s;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export const elapsedMs = (t0: bigint): number => Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;
