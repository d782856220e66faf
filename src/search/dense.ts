import { Encoder } from '../inference/encoder';
import { SearchableCorpus } from '../index/corpusIndex';
import { Hit } from '../index/vectorIndex';

/** Embeds the query with the task's encoder and searches the corpus index built by the same task. */
export async function denseSearch(encoder: Encoder, corpus: SearchableCorpus, query: string, k: number, filter?: (id: string) => boolean): Promise<Hit[]> {
  const [vec] = await encoder.embed([query], 'query');
  return corpus.index.search(vec, k, filter);
}

/** The document embedder of an encoder, with the fingerprint that keys its index on disk. */
export function documentEmbedder(encoder: Encoder, fingerprint: Record<string, string>) {
  return { fingerprint, embed: (texts: string[]) => encoder.embed(texts, 'document') };
}
