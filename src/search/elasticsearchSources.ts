import { Aside } from '../aside';
import { LexicalCandidates, VectorCandidates } from './pipeline';

/** Elasticsearch candidate sources, when ASIDE_ES_URL is configured (wired in once src/elasticsearch lands). */
export async function elasticsearchSources(_app: Aside): Promise<{ url?: string; lexical?: LexicalCandidates; vectors?: VectorCandidates }> {
  return {};
}
