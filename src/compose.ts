import { Aside, StartOptions } from './aside';
import { Config } from './config';
import { elasticsearchSources } from './search/sources/elasticsearch/sources';
import { SearchPipeline } from './search/pipeline';
import { LexicalCandidates, VectorCandidates } from './search/sources/externalSources';
import { standardSources } from './search/sources/standardSources';
import { CircuitBreaker } from './search/sources/circuitBreaker';

/** Everything a running Aside consists of: the application, its candidate sources and the search pipeline. */
export interface Composition {
  app: Aside;
  pipeline: SearchPipeline;
  /** The Elasticsearch URL candidates come from, when configured. */
  elasticsearch?: string;
  /** Elasticsearch's circuit breaker, when configured (reported by `/ready`). */
  elasticsearchCircuit?: CircuitBreaker;
  close(): Promise<void>;
}

export interface ComposeOptions extends StartOptions {
  /** External candidate backends to use instead of the configured Elasticsearch (e.g. a test's own). */
  external?: { lexical?: LexicalCandidates; vectors?: VectorCandidates };
}

/**
 * The composition root: every entry point (serve, eval, bench, tests) builds Aside here, so what an
 * evaluation measures is wired exactly as what the server serves.
 */
export async function compose(config: Config, opts: ComposeOptions = {}): Promise<Composition> {
  const app = await Aside.start(config, opts);
  try {
    const es = opts.external ? { url: undefined, circuit: undefined, ...opts.external } : elasticsearchSources(app, config);
    const pipeline = new SearchPipeline(app, standardSources(app, es));
    return { app, pipeline, elasticsearch: es.url, elasticsearchCircuit: es.circuit, close: () => app.close() };
  } catch (err) {
    await app.close();
    throw err;
  }
}
