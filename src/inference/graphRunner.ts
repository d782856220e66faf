import * as ort from 'onnxruntime-node';
import { TokenBatch } from '../text/tokenizer';
import { memoryOptions, openSession, Provider, SessionOptions } from './session';
import { GraphSource } from './graphSource';
import { StackedModules } from './stackedModules';
import { pool, tokenStates } from './pooling';
import { PoolingMode } from '../models/catalog';

/**
 * What a forward pass should return: pooled sentence vectors, one relevance score per row, or each
 * row's token states (real tokens only, [tokens × dim] row-major) for late interaction.
 */
export type OutputSpec = { kind: 'embedding'; pooling: PoolingMode; normalize: boolean } | { kind: 'scores' } | { kind: 'tokens' };

export interface RunRequest {
  graph: string;
  /** A loaded module's key; absent for a bare backbone graph. */
  module?: string;
  /**
   * A mixed batch on a stacked graph: row i uses module `modules[i]` (docs/module-format.md, "Stacked
   * graphs"). The runner stacks those modules' tensors and feeds each row's index into them.
   */
  modules?: string[];
  batch: TokenBatch;
  output: OutputSpec;
}

/** Plain tensors as they cross thread boundaries. */
export interface RawTensor {
  dims: number[];
  data: Float32Array;
}

export interface GraphInput {
  name: string;
  type: string;
  /** Symbolic dims come back as strings, fixed ones as numbers. */
  shape: (number | string)[];
}

export interface GraphInfo {
  provider: Provider;
  inputs: GraphInput[];
  outputs: string[];
}

interface LoadedGraph {
  info: GraphInfo;
  source: GraphSource;
  opts: SessionOptions;
  /** Absent while a lazily loaded graph has not run yet. */
  session?: Promise<ort.InferenceSession>;
}

/**
 * Owns the onnxruntime sessions and module tensors of one thread. A graph is opened once, a module's
 * tensors are wrapped once at load time and then fed by reference on every run: a task costs its own
 * few MB, never another copy of the backbone.
 */
export class GraphRunner {
  private readonly sessions = new Map<string, LoadedGraph>();
  private readonly modules = new Map<string, Record<string, ort.Tensor>>();
  private readonly stacks = new StackedModules((key) => this.modules.get(key));

  /** Provider of the last session opened here: what a graph not yet opened will most likely get. */
  private provider: Provider | undefined;

  /**
   * Registers a graph and returns its inputs (what task validation needs). With lazy sessions (the
   * default) a template whose index lists its inputs opens no session until its first forward pass on
   * this thread, so a graph nobody runs costs nothing; any other graph is opened now.
   */
  async loadGraph(key: string, source: GraphSource, opts: SessionOptions): Promise<GraphInfo> {
    const have = this.sessions.get(key);
    if (have) return have.info;
    if (memoryOptions(opts).lazySessions && typeof source !== 'string' && source.io) {
      const info: GraphInfo = { provider: this.provider ?? opts.provider, inputs: source.io.inputs, outputs: source.io.outputs };
      this.sessions.set(key, { info, source, opts });
      return info;
    }
    const session = await this.open(source, opts);
    const meta = (session as unknown as { inputMetadata?: { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] }[] }).inputMetadata;
    const inputs: GraphInput[] = session.inputNames.map((name, i) => ({
      name,
      type: String(meta?.[i]?.type ?? 'unknown'),
      shape: meta?.[i]?.shape ?? [],
    }));
    const info: GraphInfo = { provider: this.provider!, inputs, outputs: [...session.outputNames] };
    this.sessions.set(key, { info, source, opts, session: Promise.resolve(session) });
    return info;
  }

  private async open(source: GraphSource, opts: SessionOptions): Promise<ort.InferenceSession> {
    const { session, provider } = await openSession(source, opts);
    this.provider = provider;
    return session;
  }

  /** Graphs with an open session on this thread. */
  get openSessions(): number {
    return [...this.sessions.values()].filter((g) => g.session).length;
  }

  /** Releases a graph's session (its copy of the backbone weights and its arena). */
  async unloadGraph(key: string): Promise<void> {
    const entry = this.sessions.get(key);
    this.sessions.delete(key);
    await (await entry?.session)?.release();
  }

  loadModule(key: string, tensors: Record<string, RawTensor>): void {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(tensors)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
    this.modules.set(key, feeds);
  }

  unloadModule(key: string): void {
    this.modules.delete(key);
    this.stacks.forget(key);
  }

  async run(req: RunRequest): Promise<Float32Array[]> {
    const entry = this.sessions.get(req.graph);
    if (!entry) throw new Error(`graph '${req.graph}' is not loaded`);
    const { info } = entry;
    const session = await (entry.session ??= this.open(entry.source, entry.opts).catch((err) => {
      entry.session = undefined; // a failed open is retried by the next run
      throw err;
    }));
    const b = req.batch;
    const dims = [b.batch, b.seqLen];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', b.inputIds, dims),
      attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
    };
    if (info.inputs.some((i) => i.name === 'token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', b.tokenTypeIds, dims);
    if (req.modules) {
      const { tensors, taskIndex } = this.stacks.feeds(req.modules);
      Object.assign(feeds, tensors);
      feeds.task_index = new ort.Tensor('int64', taskIndex, [b.batch]);
    } else if (req.module) {
      const mod = this.modules.get(req.module);
      if (!mod) throw new Error(`module '${req.module}' is not loaded`);
      Object.assign(feeds, mod);
    }
    const result = await session.run(feeds);
    if (req.output.kind === 'scores') {
      const scores = result.scores ?? result[info.outputs[0]];
      return [Float32Array.from(scores.data as Float32Array)];
    }
    const hidden = result.last_hidden_state ?? result[info.outputs[0]];
    const dim = hidden.dims[hidden.dims.length - 1];
    if (req.output.kind === 'tokens') return tokenStates(hidden.data as Float32Array, b.attentionMask, b.batch, b.seqLen, dim);
    return pool(hidden.data as Float32Array, b.attentionMask, b.batch, b.seqLen, dim, req.output.pooling, req.output.normalize);
  }

  async close(): Promise<void> {
    for (const g of this.sessions.values()) await (await g.session)?.release();
    this.sessions.clear();
    this.modules.clear();
    this.stacks.clear();
  }
}
