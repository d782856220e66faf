import { Aside } from '../aside';
import { esConfigFromEnv, createEsClient } from '../elasticsearch/config';
import { ElasticsearchCandidates } from '../elasticsearch/bm25Candidates';
import { ElasticsearchKnn } from '../elasticsearch/denseVectors';
import { defaultIndexName } from '../elasticsearch/corpusIndexer';
import { LexicalCandidates, VectorCandidates } from './pipeline';

/**
 * Elasticsearch candidate sources when ASIDE_ES_URL is set. The index defaults to the one
 * `npm run es -- index` writes for the served collection (aside-<collection>); ASIDE_ES_INDEX,
 * ASIDE_ES_FIELDS (comma-separated, boosts allowed) and ASIDE_ES_QUERY_TEMPLATE (JSON with
 * "{{query}}") override it.
 */
export async function elasticsearchSources(app: Aside, env: NodeJS.ProcessEnv = process.env): Promise<{ url?: string; lexical?: LexicalCandidates; vectors?: VectorCandidates }> {
  const config = esConfigFromEnv(env);
  if (!config) return {};
  const client = createEsClient(config);
  const index = env.ASIDE_ES_INDEX || defaultIndexName(app.collection?.name ?? 'corpus');
  const lexical = new ElasticsearchCandidates(client, {
    index,
    fields: env.ASIDE_ES_FIELDS ? env.ASIDE_ES_FIELDS.split(',').map((f) => f.trim()) : undefined,
    template: env.ASIDE_ES_QUERY_TEMPLATE || undefined,
  });
  const vectors = new ElasticsearchKnn(client, { index });
  return { url: config.url, lexical, vectors };
}
