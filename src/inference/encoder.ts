import { ModelSpec, PoolingMode } from '../models/catalog';
import { TextTokenizer, Encoded } from '../text/tokenizer';
import { joinDocument, TextContract, TitledText, withPrefix } from '../text/documentText';
import { AsideError } from '../errors';
import { BatchLimits, BatchStats, DEFAULT_LIMITS, MixTarget, RowQueue } from './batchQueue';
import { OutputSpec } from './graphRunner';
import { schedulerFor, Scheduler, Ticket } from './scheduler';
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
  /**
   * The stacked variant of `graph` this task's rows may share forward passes on with other tasks'
   * (docs/serving.md, "Mixed-task batches"), and its module's tensor shapes: only equal shapes stack.
   */
  mix?: { graph: string; shapes: string };
}

/**
 * Tokenises on the calling thread and hands rows to this task version's queues in the backend's one
 * scheduler (inference/scheduler.ts), which batches them onto free workers. One Encoder per task
 * version; the backend, its scheduler and the tokenizer are shared.
 */
export class Encoder {
  constructor(
    private readonly backend: InferenceBackend,
    readonly tokenizer: TextTokenizer,
    readonly target: EncoderTarget,
    readonly info: EncoderInfo,
    private readonly limits: BatchLimits = DEFAULT_LIMITS,
    private readonly stats: BatchStats = {},
  ) {
    this.scheduler = schedulerFor(backend, limits);
  }

  private readonly scheduler: Scheduler;
  private readonly prefixPieces: Partial<Record<TextKind, number>> = {};

  /** A document as this task was trained to see it (the manifest's text contract). */
  documentText(doc: TitledText): string {
    return joinDocument(doc, this.target.text);
  }

  /**
   * Token ids of each text. A text with no tokens of its own (whitespace, control characters, a lone
   * surrogate or invalid UTF-8 only) is refused like "" is: it would embed as the vector of nothing.
   */
  tokenize(texts: string[], kind: TextKind): Encoded[] {
    return texts.map((t, i) => this.tokenizeOne(t, kind, texts.length > 1 ? i : undefined));
  }

  private tokenizeOne(text: string, kind: TextKind, index: number | undefined): Encoded {
    const own = (this.prefixPieces[kind] ??= this.tokenizer.pieces(withPrefix(this.target.prefixes, kind, '')).length) + 2;
    const enc = this.tokenizer.single(withPrefix(this.target.prefixes, kind, text), this.target.maxLength[kind]);
    if (enc.ids.length <= own) throw emptyText(index === undefined ? 'the input' : `input ${index}`);
    return enc;
  }

  /** One queue per task version, output and text class, so queries never wait in line behind documents. */
  private queueFor(output: 'embedding' | 'scores' | 'tokens', textClass: TextKind | 'pair'): RowQueue<Ticket> {
    const { graph, module, pooling, normalize, mix } = this.target;
    const spec: OutputSpec = output === 'embedding' ? { kind: 'embedding', pooling, normalize } : { kind: output };
    // A scores graph answers one array for the whole batch: split it into one value per row.
    const perRow = output === 'scores' ? (r: Float32Array[]) => Array.from(r[0], (v) => Float32Array.of(v)) : (r: Float32Array[]) => r;
    const key = `${graph}|${module ?? ''}|${output}|${textClass}`;
    const mixTarget: MixTarget | undefined =
      mix && module
        ? {
            group: `${mix.graph}|${mix.shapes}|${JSON.stringify(spec)}|${textClass}`,
            module,
            run: (batch, modules) => this.backend.run({ graph: mix.graph, modules, batch, output: spec }).then(perRow),
          }
        : undefined;
    return this.scheduler.queue(key, (batch) => this.backend.run({ graph, module, batch, output: spec }).then(perRow), this.stats, mixTarget);
  }

  /** Rows of this task version waiting for a forward pass. */
  get queueDepth(): number {
    return this.scheduler.depth(`${this.target.graph}|${this.target.module ?? ''}|`);
  }

  /**
   * Admission first (a refusal costs no tokenising), then the rows are tokenised in slices with the
   * event loop free every few milliseconds, so a large request neither stalls other requests nor keeps
   * tokenising after its client has gone; then they join their queue.
   */
  private async schedule(queue: RowQueue<Ticket>, count: number, tokenize: (i: number) => Encoded): Promise<Float32Array[]> {
    const ticket = this.scheduler.admit(count);
    const rows: Encoded[] = [];
    try {
      let sliceStart = performance.now();
      for (let i = 0; i < count; i++) {
        if (performance.now() - sliceStart > TOKENIZE_SLICE_MS) {
          await new Promise((r) => setImmediate(r));
          if (ticket.expired) break;
          sliceStart = performance.now();
        }
        rows.push(tokenize(i));
      }
    } catch (err) {
      this.scheduler.release(ticket);
      throw err;
    }
    return this.scheduler.submit(ticket, queue, rows);
  }

  embed(texts: string[], kind: TextKind): Promise<Float32Array[]> {
    return this.schedule(this.queueFor('embedding', kind), texts.length, (i) => this.tokenizeOne(texts[i], kind, texts.length > 1 ? i : undefined));
  }

  /** Per-token states ([tokens × dim], unnormalised) of already tokenised rows: late interaction's input. */
  tokenStates(rows: Encoded[], kind: TextKind): Promise<Float32Array[]> {
    return this.schedule(this.queueFor('tokens', kind), rows.length, (i) => rows[i]);
  }

  /** Cross-encoder relevance of each document to the query (reranker graphs only). */
  async score(query: string, documents: string[]): Promise<number[]> {
    if (this.tokenizer.pieces(query).length === 0) throw emptyText('the query');
    const rows = await this.schedule(this.queueFor('scores', 'pair'), documents.length, (i) => this.tokenizer.pair(query, documents[i], this.target.maxLength.pair));
    return rows.map((v) => v[0]);
  }
}

/** Longest the event loop is held by tokenising before other requests get a turn (ms). */
const TOKENIZE_SLICE_MS = 4;

const emptyText = (what: string) => new AsideError('validation', `${what} is empty after normalisation (only whitespace, control characters or invalid Unicode)`);

/** Loads the bare backbone of a model spec as a graph and returns its encoder. */
export async function openBaseEncoder(
  spec: ModelSpec,
  backend: InferenceBackend = new InProcessBackend(),
  session: SessionOptions = defaultSessionOptions(),
  limits: BatchLimits = DEFAULT_LIMITS,
  stats: BatchStats = {},
): Promise<Encoder> {
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
