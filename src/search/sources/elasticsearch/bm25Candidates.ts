import { Client, estypes } from '@elastic/elasticsearch';
import { fromEsError } from './errors';

export interface Candidate {
  id: string;
  score: number;
  title: string;
  text: string;
}

/** Restricts candidates: to given ids, and/or by any Elasticsearch query in filter context. */
export interface CandidateFilter {
  ids?: string[];
  query?: estypes.QueryDslQueryContainer;
}

export interface CandidatesOptions {
  index: string;
  /** Fields searched by the default template, with optional boosts ('title^2'). Default ['title', 'text']. */
  fields?: string[];
  /** Source fields returned as title/text. */
  titleField?: string;
  textField?: string;
  /** Field holding the document id (default: `_id`). */
  idField?: string;
  /**
   * Query template: a JSON string in which "{{query}}" is replaced by the query text (JSON-escaped), or a
   * function. Default: multi_match best_fields over `fields` with tie_breaker 0.5 (BEIR's BM25 setup).
   */
  template?: string | ((query: string) => estypes.QueryDslQueryContainer);
  /** Per-request timeout in ms, on top of the client's own. */
  timeoutMs?: number;
}

/** BM25 (or any lexical query) candidates from Elasticsearch; structurally a `LexicalCandidates`. */
export class ElasticsearchCandidates {
  private readonly fields: string[];
  private readonly titleField: string;
  private readonly textField: string;
  private readonly url: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly opts: CandidatesOptions,
  ) {
    this.fields = opts.fields ?? ['title', 'text'];
    this.titleField = opts.titleField ?? 'title';
    this.textField = opts.textField ?? 'text';
    this.url = clientUrl(client);
    if (typeof opts.template === 'string' && !opts.template.includes('{{query}}')) {
      throw new Error('an Elasticsearch query template needs a "{{query}}" placeholder');
    }
  }

  get index(): string {
    return this.opts.index;
  }

  buildQuery(query: string): estypes.QueryDslQueryContainer {
    const t = this.opts.template;
    if (typeof t === 'function') return t(query);
    if (typeof t === 'string') return JSON.parse(t.split('{{query}}').join(JSON.stringify(query).slice(1, -1))) as estypes.QueryDslQueryContainer;
    return { multi_match: { query, fields: this.fields, type: 'best_fields', tie_breaker: 0.5 } };
  }

  /** Top `k` documents for `query`. Throws AsideError 'unavailable' (503) when Elasticsearch is down or times out. */
  async search(query: string, k: number, filter?: CandidateFilter): Promise<Candidate[]> {
    const must = this.buildQuery(query);
    const filters: estypes.QueryDslQueryContainer[] = [];
    if (filter?.ids) filters.push(this.opts.idField ? { terms: { [this.opts.idField]: filter.ids } } : { ids: { values: filter.ids } });
    if (filter?.query) filters.push(filter.query);
    try {
      const res = await this.client.search<Record<string, unknown>>(
        {
          index: this.opts.index,
          size: k,
          query: filters.length ? { bool: { must, filter: filters } } : must,
          _source: [this.titleField, this.textField, ...(this.opts.idField ? [this.opts.idField] : [])],
          track_total_hits: false,
        },
        this.opts.timeoutMs ? { requestTimeout: this.opts.timeoutMs } : undefined,
      );
      return res.hits.hits.map((h) => ({
        id: String(this.opts.idField ? h._source?.[this.opts.idField] : h._id),
        score: h._score ?? 0,
        title: String(h._source?.[this.titleField] ?? ''),
        text: String(h._source?.[this.textField] ?? ''),
      }));
    } catch (err) {
      throw fromEsError(err, `BM25 search in ${this.opts.index}`, this.url);
    }
  }
}

/** The first node's URL, for error messages (never includes credentials). */
export function clientUrl(client: Client): string | undefined {
  const conn = client.connectionPool.connections[0];
  if (!conn) return undefined;
  const u = new URL(conn.url.toString());
  u.username = '';
  u.password = '';
  return u.origin;
}
