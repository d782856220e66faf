import { Aside } from '../../../aside';
import { Config } from '../../../config';
import { esConfigOf, createEsClient } from './client';
import { ElasticsearchCandidates } from './bm25Candidates';
import { ElasticsearchKnn } from './knnCandidates';
import { defaultIndexName } from './indexName';
import { LexicalCandidates, VectorCandidates } from '../externalSources';
import { CircuitBreaker } from '../circuitBreaker';

/**
 * Elasticsearch candidate backends when ASIDE_ES_URL is set. The index defaults to the one
 * `npm run es -- index` writes for the served collection (aside-<collection>); ASIDE_ES_INDEX,
 * ASIDE_ES_FIELDS (comma-separated, boosts allowed) and ASIDE_ES_QUERY_TEMPLATE (JSON with
 * "{{query}}") override it.
 */
export function elasticsearchSources(app: Aside, config: Config): { url?: string; lexical?: LexicalCandidates; vectors?: VectorCandidates; circuit?: CircuitBreaker } {
  const es = esConfigOf(config);
  if (!es) return {};
  const client = createEsClient(es);
  const index = config.esIndex ?? defaultIndexName(app.collection?.name ?? 'corpus');
  const lexical = new ElasticsearchCandidates(client, {
    index,
    fields: config.esFields?.split(',').map((f) => f.trim()),
    template: config.esQueryTemplate,
  });
  const vectors = new ElasticsearchKnn(client, { index });
  // One circuit for both: they share the cluster. While it is open, calls fail at once with 503.
  const circuit = new CircuitBreaker('Elasticsearch', config.esBreakerMs);
  return {
    url: es.url,
    circuit,
    lexical: { search: (...a) => circuit.call(() => lexical.search(...a)) },
    vectors: { knn: (...a) => circuit.call(() => vectors.knn(...a)) },
  };
}
