import { Client, estypes } from '@elastic/elasticsearch';
import { Doc } from '../../src/data/beir';
import { BEIR_TEXT, joinDocument } from '../../src/text/documentText';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { progress } from '../../src/util/progress';
import { bulkWrite, BulkOptions, BulkResult } from './bulk';
import { fromEsError } from '../../src/search/sources/elasticsearch/errors';

/** Turns document texts into vectors (e.g. `(t) => encoder.embed(t, 'document')`). */
export type EmbedFn = (texts: string[]) => Promise<Float32Array[]>;

export type VectorSimilarity = 'cosine' | 'dot_product' | 'l2_norm' | 'max_inner_product';

/**
 * Adds `field` as a dense_vector of `dims` to the index mapping. Idempotent when it already exists with
 * the same dims; a different dims is a 409 (mappings cannot change in place: use another field or index).
 */
export async function ensureVectorField(
  client: Client,
  index: string,
  field: string,
  dims: number,
  opts: { similarity?: VectorSimilarity; indexOptions?: estypes.MappingDenseVectorIndexOptions } = {},
): Promise<void> {
  try {
    const mapping = await client.indices.getMapping({ index });
    const existing = Object.values(mapping)[0]?.mappings?.properties?.[field] as { type?: string; dims?: number } | undefined;
    if (existing) {
      if (existing.type === 'dense_vector' && existing.dims === dims) return;
      throw new AsideError('conflict', `${index}.${field} is already mapped as ${existing.type} with dims ${existing.dims}; these vectors have ${dims}`);
    }
    await client.indices.putMapping({
      index,
      properties: { [field]: { type: 'dense_vector', dims, index: true, similarity: opts.similarity ?? 'cosine', ...(opts.indexOptions ? { index_options: opts.indexOptions } : {}) } },
    });
  } catch (err) {
    throw fromEsError(err, `mapping ${index}.${field}`);
  }
}

export interface WriteVectorsOptions extends Omit<BulkOptions, 'label'> {
  /** dense_vector field (default `embedding`; see vectorFieldFor for per-task fields). */
  field?: string;
  similarity?: VectorSimilarity;
  indexOptions?: estypes.MappingDenseVectorIndexOptions;
  /** Documents embedded per embed() call (default 64). */
  embedBatch?: number;
  /** How a document becomes text for embed(): the task's text contract (default: BEIR's `title text`). */
  text?: (d: Doc) => string;
}

/**
 * Embeds every document and writes the vector into `field` of its existing Elasticsearch document
 * (index the corpus first). Dims come from the first vectors; the field is mapped on first use.
 */
export async function writeDenseVectors(client: Client, index: string, docs: Doc[], embed: EmbedFn, opts: WriteVectorsOptions = {}): Promise<BulkResult & { field: string; dims: number }> {
  const field = opts.field ?? 'embedding';
  const step = opts.embedBatch ?? 64;
  const toText = opts.text ?? ((d: Doc) => joinDocument(d, BEIR_TEXT));
  const bar = progress(`vectors ${index}.${field}`, docs.length, 'docs');
  const t0 = Date.now();
  let dims = 0;
  let written = 0;
  let retried = 0;
  try {
    for (let s = 0; s < docs.length; s += step) {
      const chunk = docs.slice(s, s + step);
      const vecs = await embed(chunk.map(toText));
      if (vecs.length !== chunk.length) throw new AsideError('internal', `embed() returned ${vecs.length} vectors for ${chunk.length} texts`);
      if (!dims) {
        dims = vecs[0].length;
        await ensureVectorField(client, index, field, dims, opts);
      }
      const bad = vecs.findIndex((v) => v.length !== dims);
      if (bad >= 0) throw new AsideError('internal', `vector of document '${chunk[bad].id}' has ${vecs[bad].length} dims, expected ${dims}`);
      const res = await bulkWrite(
        client,
        index,
        chunk.map((d, i) => ({ op: 'update' as const, id: d.id, doc: { [field]: Array.from(vecs[i]) } })),
        { ...opts, refresh: false },
      );
      written += res.written;
      retried += res.retried;
      bar.tick(chunk.length);
    }
    if (opts.refresh !== false) await client.indices.refresh({ index }).catch((e) => Promise.reject(fromEsError(e, `refresh of ${index}`)));
  } finally {
    bar.stop();
  }
  log.info({ index, field, dims, docs: written, retried, ms: Date.now() - t0 }, 'wrote dense vectors into Elasticsearch');
  return { written, retried, ms: Date.now() - t0, field, dims };
}
