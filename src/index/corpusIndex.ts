import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Collection, Doc } from '../data/beir';
import type { Encoder } from '../inference/encoder';
import { indexesDir } from '../paths';
import { progress } from '../util/progress';
import { log } from '../log';
import { removeStaleIndexTemps, VectorIndex } from './vectorIndex';

/** Anything that turns documents into vectors: the bare backbone or a task's retriever. */
export interface DocumentEmbedder {
  /** Identifies what produced the vectors (model, task and version); part of the index's identity. */
  readonly fingerprint: Record<string, string>;
  /** The document as the embedder was trained to see it (its text contract). */
  text(doc: Doc): string;
  embed(texts: string[], kind: 'document'): Promise<Float32Array[]>;
}

type DocumentEncoder = Pick<Encoder, 'embed' | 'documentText' | 'target'>;

/** The document embedder of an encoder, with the fingerprint (plus its text contract) that keys its index on disk. */
export function documentEmbedder(encoder: DocumentEncoder, fingerprint: Record<string, string>): DocumentEmbedder {
  return { fingerprint: { ...fingerprint, titleSeparator: encoder.target.text.titleSeparator }, text: (d) => encoder.documentText(d), embed: (texts) => encoder.embed(texts, 'document') };
}

/** A collection's documents plus their vector index. */
export interface SearchableCorpus {
  name: string;
  docs: Map<string, Doc>;
  index: VectorIndex;
}

function sourceOf(collection: Collection, embedder: DocumentEmbedder): Record<string, string> {
  const corpus = path.join(collection.dir, 'corpus.jsonl');
  const stat = fs.statSync(corpus);
  return { collection: collection.dir, corpusBytes: String(stat.size), corpusMtime: String(Math.round(stat.mtimeMs)), ...embedder.fingerprint };
}

function sameSource(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

export function indexDirFor(collection: Collection, embedder: DocumentEmbedder): string {
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify(sourceOf(collection, embedder)))
    .digest('hex')
    .slice(0, 12);
  return path.join(indexesDir(), `${collection.name}-${key}`);
}

let cleanedOnce: string[] | undefined;

/** The persisted index if it is this source's and passes every check; any failure is logged with its path, then rebuilt. */
async function reuse(dir: string, source: Record<string, string>, collection: Collection): Promise<VectorIndex | undefined> {
  try {
    const meta = VectorIndex.readMeta(dir);
    if (!meta || !sameSource(meta.source, source) || meta.count !== collection.docs.length) return undefined;
    const index = await VectorIndex.load(dir);
    const missing = collection.docs.find((d) => !index.has(d.id));
    if (missing) throw new Error(`${dir} lacks document '${missing.id}' of the collection`);
    return index;
  } catch (err) {
    log.warn({ dir, err: (err as Error).message }, 'persisted index failed its checks; rebuilding it');
    return undefined;
  }
}

/**
 * Reuses the persisted index when it was built from the same corpus file by the same embedder,
 * otherwise embeds every document (with progress) and persists the new index before returning.
 */
export async function openCorpus(collection: Collection, embedder: DocumentEmbedder, opts: { rebuild?: boolean; ef?: number; chunk?: number } = {}): Promise<SearchableCorpus> {
  const docs = new Map(collection.docs.map((d) => [d.id, d]));
  const source = sourceOf(collection, embedder);
  const dir = indexDirFor(collection, embedder);
  cleanedOnce ??= removeStaleIndexTemps(indexesDir());
  const reused = opts.rebuild ? undefined : await reuse(dir, source, collection);
  if (reused) {
    if (opts.ef) reused.setEf(opts.ef);
    log.info({ collection: collection.name, dir, count: reused.size }, 'index reused');
    return { name: collection.name, docs, index: reused };
  }
  const chunk = opts.chunk ?? 128;
  const bar = progress(`index ${collection.name}`, collection.docs.length, 'docs');
  let index: VectorIndex | undefined;
  for (let s = 0; s < collection.docs.length; s += chunk) {
    const part = collection.docs.slice(s, s + chunk);
    const vecs = await embedder.embed(
      part.map((d) => embedder.text(d)),
      'document',
    );
    index ??= VectorIndex.create(collection.name, vecs[0].length, collection.docs.length, source, { ef: opts.ef });
    part.forEach((d, i) => index!.add(d.id, vecs[i]));
    bar.tick(part.length);
  }
  bar.stop();
  if (!index) throw new Error(`collection ${collection.name} has no documents`);
  await index.save(dir);
  log.info({ collection: collection.name, dir, count: index.size }, 'index built');
  return { name: collection.name, docs, index };
}
