import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Collection, Doc, loadCollection } from '../../src/data/beir';
import { REPO_ROOT } from '../../src/paths';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { bulkWrite, BulkOptions, BulkResult } from './bulk';
import { fromEsError } from '../../src/search/sources/elasticsearch/errors';
import { defaultIndexName } from '../../src/search/sources/elasticsearch/indexName';

/** Settings + mappings of a corpus index (fields `id` keyword, `title` and `text` text); see the JSON file. */
export interface IndexBody {
  settings?: Record<string, unknown>;
  mappings?: Record<string, unknown>;
}

export const corpusIndexFile = (): string => path.join(REPO_ROOT, 'plugins', 'elasticsearch', 'corpus-index.json');

export function defaultCorpusIndexBody(): IndexBody {
  return JSON.parse(fs.readFileSync(corpusIndexFile(), 'utf8')) as IndexBody;
}

/** Creates the index (deleting it first when `recreate`); leaves an existing one alone otherwise. */
export async function createCorpusIndex(client: Client, index: string, opts: { recreate?: boolean; body?: IndexBody } = {}): Promise<{ created: boolean }> {
  try {
    const exists = await client.indices.exists({ index });
    if (exists && !opts.recreate) return { created: false };
    if (exists) await client.indices.delete({ index });
    const body = opts.body ?? defaultCorpusIndexBody();
    await client.indices.create({ index, settings: body.settings, mappings: body.mappings, wait_for_active_shards: 1 });
    return { created: true };
  } catch (err) {
    throw fromEsError(err, `creating index ${index}`);
  }
}

export interface IndexCorpusOptions extends BulkOptions {
  /** Delete and re-create the index first (default true: a re-run gives the same index). */
  recreate?: boolean;
  body?: IndexBody;
}

/** Bulk-indexes documents as `{id, title, text}` with `_id` = the document id. */
export async function indexDocs(client: Client, index: string, docs: Doc[], opts: IndexCorpusOptions = {}): Promise<BulkResult> {
  await createCorpusIndex(client, index, { recreate: opts.recreate ?? true, body: opts.body });
  const res = await bulkWrite(
    client,
    index,
    docs.map((d) => ({ op: 'index' as const, id: d.id, doc: { id: d.id, title: d.title, text: d.text } })),
    { label: `index ${index}`, ...opts },
  );
  log.info({ index, docs: res.written, retried: res.retried, ms: res.ms }, 'indexed corpus into Elasticsearch');
  return res;
}

/** Loads a BEIR collection (directory or already loaded) and indexes its corpus; index defaults to the collection name. */
export async function indexCollection(
  client: Client,
  collection: string | Collection,
  opts: IndexCorpusOptions & { index?: string } = {},
): Promise<BulkResult & { index: string; collection: Collection }> {
  const col = typeof collection === 'string' ? await loadCollection(collection) : collection;
  if (!col.docs.length) throw new AsideError('validation', `collection ${col.dir} has no documents`);
  const index = opts.index ?? defaultIndexName(col.name);
  const res = await indexDocs(client, index, col.docs, opts);
  return { ...res, index, collection: col };
}
