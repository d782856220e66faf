import { SessionOptions } from './session';
import { GraphInfo, GraphRunner, RawTensor, RunRequest } from './graphRunner';
import { GraphSource } from './graphSource';

/**
 * Where forward passes happen. The server talks only to this interface, so the in-process runner
 * (tests, CLI) and the worker pool (server) are interchangeable.
 */
export interface InferenceBackend {
  readonly name: string;
  /**
   * Batches the scheduler may have outstanding at once: one per worker. None waits inside a worker,
   * so the next batch is formed when a worker is free, from the freshest rows (a query that arrives
   * meanwhile goes to whichever worker frees first; rows of a client that left never start).
   */
  readonly batchSlots: number;
  loadGraph(key: string, source: GraphSource, opts: SessionOptions): Promise<GraphInfo>;
  loadModule(key: string, tensors: Record<string, RawTensor>): Promise<void>;
  unloadModule(key: string): Promise<void>;
  run(req: RunRequest): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Runs on the calling thread: simplest, but a forward pass blocks the event loop while it runs. */
export class InProcessBackend implements InferenceBackend {
  readonly name = 'in-process';
  readonly batchSlots = 1;
  private readonly runner = new GraphRunner();
  loadGraph(key: string, source: GraphSource, opts: SessionOptions): Promise<GraphInfo> {
    return this.runner.loadGraph(key, source, opts);
  }
  async loadModule(key: string, tensors: Record<string, RawTensor>): Promise<void> {
    this.runner.loadModule(key, tensors);
  }
  async unloadModule(key: string): Promise<void> {
    this.runner.unloadModule(key);
  }
  run(req: RunRequest): Promise<Float32Array[]> {
    return this.runner.run(req);
  }
  close(): Promise<void> {
    return this.runner.close();
  }
}
