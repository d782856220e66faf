import { Aside } from '../../aside';
import { DenseSource } from './denseSource';
import { ExternalKnnSource, LexicalCandidates, LexicalSource, VectorCandidates } from './externalSources';
import { FusedSource } from './fusedSource';
import { CandidateSources } from './source';

/** dense, elasticsearch (BM25), hybrid (both by RRF) and elasticsearch-knn, over whatever backends exist. */
export function standardSources(app: Aside, external: { lexical?: LexicalCandidates; vectors?: VectorCandidates } = {}): CandidateSources {
  const dense = new DenseSource(app);
  const lexical = new LexicalSource(external.lexical);
  return new CandidateSources()
    .register(dense)
    .register(lexical)
    .register(new FusedSource('hybrid', [dense, lexical]))
    .register(new ExternalKnnSource(app, external.vectors));
}
