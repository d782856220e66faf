import { ModelSpec, PoolingMode } from '../models/catalog';
import { TextTokenizer, Encoded } from '../text/tokenizer';
import { joinDocument, TextContract, TitledText, withPrefix } from '../text/documentText';
import { BatchLimits, BatchQueue, BatchStats, DEFAULT_LIMITS } from './batchQueue';
import { InferenceBackend, InProcessBackend } from './backend';
import { defaultSessionOptions, Provider, SessionOptions } from './session';

export type TextKind = 'query' | 'document';

export interface EncoderInfo {
  model: string;
  dims: number;
  provider: Provider;
  maxLength: { query: number; document: number; pair: number };
  pooling: PoolingMode;
}

/** How one task (or the bare backbone) turns text into vectors or scores on a loaded graph. */
export interface EncoderTarget {
  graph: string;
  module?: string;
  pooling: PoolingMode;
  normalize: boolean;
  prefixes: { query: string; document: string };
  text: TextContract;
  maxLength: { query: number; document: number; pair: number };
}

/**
 * Tokenises on the calling thread and hands rows to this task version's micro-batching queues, which
 * feed the inference backend. One Encoder per task version; the backend and tokenizer are shared.
 */
export class Encoder {
  constructor(
    private readonly backend: InferenceBackend,
    readonly tokenizer: TextTokenizer,
    readonly target: EncoderTarget,
    readonly info: EncoderInfo,
    private readonly limits: BatchLimits = DEFAULT_LIMITS,
    private readonly stats: BatchStats = {},
  ) {}

  private embedQueue: BatchQueue | undefined;
  private scoreQueue: BatchQueue | undefined;

  /** A document as this task was trained to see it (the manifest's text contract). */
  documentText(doc: TitledText): string {
    return joinDocument(doc, this.target.text);
  }

  tokenize(texts: string[], kind: TextKind): Encoded[] {
    const max = this.target.maxLength[kind];
    return texts.map((t) => this.tokenizer.single(withPrefix(this.target.prefixes, kind, t), max));
  }

  private queueFor(output: 'embedding' | 'scores'): BatchQueue {
    if (output === 'scores') {
      return (this.scoreQueue ??= new BatchQueue(
        (batch) => this.backend.run({ graph: this.target.graph, module: this.target.module, batch, output: { kind: 'scores' } }).then((r) => Array.from(r[0], (v) => Float32Array.of(v))),
        this.limits,
        this.stats,
      ));
    }
    return (this.embedQueue ??= new BatchQueue(
      (batch) => this.backend.run({ graph: this.target.graph, module: this.target.module, batch, output: { kind: 'embedding', pooling: this.target.pooling, normalize: this.target.normalize } }),
      this.limits,
      this.stats,
    ));
  }

  /** Rows waiting in this encoder's queues. */
  get queueDepth(): number {
    return (this.embedQueue?.depth ?? 0) + (this.scoreQueue?.depth ?? 0);
  }

  embed(texts: string[], kind: TextKind): Promise<Float32Array[]> {
    return this.queueFor('embedding').submit(this.tokenize(texts, kind));
  }

  /** Cross-encoder relevance of each document to the query (reranker graphs only). */
  async score(query: string, documents: string[]): Promise<number[]> {
    const rows = documents.map((d) => this.tokenizer.pair(query, d, this.target.maxLength.pair));
    return (await this.queueFor('scores').submit(rows)).map((v) => v[0]);
  }
}

/** Loads the bare backbone of a model spec as a graph and returns its encoder. */
export async function openBaseEncoder(spec: ModelSpec, backend: InferenceBackend = new InProcessBackend(), session: SessionOptions = defaultSessionOptions(), limits: BatchLimits = DEFAULT_LIMITS, stats: BatchStats = {}): Promise<Encoder> {
  const graph = `base:${spec.id}`;
  const info = await backend.loadGraph(graph, spec.modelPath, session);
  const tokenizer = new TextTokenizer(spec.tokenizerPath);
  const target: EncoderTarget = {
    graph,
    pooling: spec.pooling,
    normalize: spec.normalize,
    prefixes: spec.prefixes,
    text: spec.text,
    maxLength: { query: spec.maxLength, document: spec.maxLength, pair: spec.maxLength },
  };
  const probe = await backend.run({ graph, batch: TextTokenizer.batch([tokenizer.single('probe', 8)]), output: { kind: 'embedding', pooling: spec.pooling, normalize: true } });
  return new Encoder(backend, tokenizer, target, { model: spec.id, dims: probe[0].length, provider: info.provider, maxLength: target.maxLength, pooling: spec.pooling }, limits, stats);
}
