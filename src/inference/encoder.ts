import ort from 'onnxruntime-node';
import { ModelSpec } from '../models/catalog';
import { TextTokenizer, TokenBatch, Encoded } from '../text/tokenizer';
import { openSession, Provider, SessionOptions, defaultSessionOptions } from './session';
import { pool } from './pooling';

export type TextKind = 'query' | 'document';

export interface EncoderInfo {
  model: string;
  dims: number;
  provider: Provider;
  maxLength: number;
  pooling: string;
}

/**
 * What the server and the evaluation harness call. The in-process implementation below runs on the
 * calling thread; a worker-pool implementation can sit behind the same interface.
 */
export interface Encoder {
  readonly info: EncoderInfo;
  embed(texts: string[], kind: TextKind): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export interface EncoderOptions {
  session?: SessionOptions;
  /** Rows per forward pass. */
  batchSize?: number;
  /** Override of the catalog's max length (tokens, specials included). */
  maxLength?: number;
}

/** Runs the ONNX backbone on the calling thread: tokenise, sort by length, batch, run, pool. */
export class OnnxEncoder implements Encoder {
  private constructor(
    private readonly spec: ModelSpec,
    private readonly tokenizer: TextTokenizer,
    private readonly session: ort.InferenceSession,
    readonly info: EncoderInfo,
    private readonly batchSize: number,
  ) {}

  static async open(spec: ModelSpec, opts: EncoderOptions = {}): Promise<OnnxEncoder> {
    const tokenizer = new TextTokenizer(spec.tokenizerPath);
    const { session, provider } = await openSession(spec.modelPath, opts.session ?? defaultSessionOptions());
    const maxLength = opts.maxLength ?? spec.maxLength;
    const probe = new OnnxEncoder(spec, tokenizer, session, { model: spec.id, dims: 0, provider, maxLength, pooling: spec.pooling }, 1);
    const dims = (await probe.runBatch(TextTokenizer.batch([tokenizer.single('probe', 8)])))[0].length;
    return new OnnxEncoder(spec, tokenizer, session, { ...probe.info, dims }, opts.batchSize ?? 32);
  }

  tokenize(texts: string[], kind: TextKind): Encoded[] {
    const prefix = this.spec.prefixes[kind];
    return texts.map((t) => this.tokenizer.single(prefix + t, this.info.maxLength));
  }

  async embed(texts: string[], kind: TextKind): Promise<Float32Array[]> {
    const rows = this.tokenize(texts, kind);
    // Sorting by length before batching keeps padding (wasted work) small on mixed-length input.
    const order = rows.map((_, i) => i).sort((a, b) => rows[a].ids.length - rows[b].ids.length);
    const out: Float32Array[] = new Array(texts.length);
    for (let s = 0; s < order.length; s += this.batchSize) {
      const idx = order.slice(s, s + this.batchSize);
      const vecs = await this.runBatch(TextTokenizer.batch(idx.map((i) => rows[i])));
      idx.forEach((i, j) => (out[i] = vecs[j]));
    }
    return out;
  }

  async runBatch(b: TokenBatch, extraFeeds: Record<string, ort.Tensor> = {}): Promise<Float32Array[]> {
    const dims = [b.batch, b.seqLen];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', b.inputIds, dims),
      attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
      ...extraFeeds,
    };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', b.tokenTypeIds, dims);
    const result = await this.session.run(feeds);
    const hidden = result[this.session.outputNames[0]];
    const dim = hidden.dims[hidden.dims.length - 1];
    return pool(hidden.data as Float32Array, b.attentionMask, b.batch, b.seqLen, dim, this.spec.pooling, this.spec.normalize);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
