import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InferenceBackend } from './backend';
import { GraphInfo, RawTensor, RunRequest } from './graphRunner';
import { SessionOptions } from './session';
import { log } from '../log';

export type PoolMessage =
  | { id: number; op: 'loadGraph'; key: string; path: string; opts: SessionOptions }
  | { id: number; op: 'loadModule'; key: string; tensors: Record<string, RawTensor> }
  | { id: number; op: 'unloadModule'; key: string }
  | { id: number; op: 'run'; req: RunRequest }
  | { id: number; op: 'close' };

export interface PoolReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** A message without its id (distributes over the union, unlike Omit). */
type Outgoing = PoolMessage extends infer M ? (M extends PoolMessage ? Omit<M, 'id'> : never) : never;

interface Slot {
  worker: Worker;
  busy: number;
  waiting: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
}

/** Starts the worker from compiled JS, or through tsx when running from TypeScript sources. */
function spawnWorker(): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `inferenceWorker${ext}`);
  if (ext === '.ts') return new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true });
  return new Worker(file);
}

/**
 * N worker threads, each holding the backbone graph(s) once and every task's module tensors once.
 * Loads go to every worker; a forward pass goes to the worker with the fewest passes outstanding.
 */
export class WorkerPoolBackend implements InferenceBackend {
  readonly name: string;
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    this.name = `worker-threads x${size}`;
    this.slots = Array.from({ length: Math.max(1, size) }, () => this.startSlot());
  }

  private startSlot(): Slot {
    const slot: Slot = { worker: spawnWorker(), busy: 0, waiting: new Map() };
    slot.worker.on('message', (reply: PoolReply) => {
      const w = slot.waiting.get(reply.id);
      if (!w) return;
      slot.waiting.delete(reply.id);
      if (slot.waiting.size === 0) slot.worker.unref();
      if (reply.ok) w.resolve(reply.value);
      else w.reject(new Error(reply.error));
    });
    slot.worker.on('error', (err) => {
      log.error({ err: err.message }, 'inference worker failed');
      for (const w of slot.waiting.values()) w.reject(err);
      slot.waiting.clear();
    });
    slot.worker.unref();
    return slot;
  }

  private send<T>(slot: Slot, msg: Outgoing): Promise<T> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // Referenced only while it owes an answer: an idle pool never keeps the process alive.
      if (slot.waiting.size === 0) slot.worker.ref();
      slot.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ ...msg, id });
    });
  }

  async loadGraph(key: string, modelPath: string, opts: SessionOptions): Promise<GraphInfo> {
    const infos = await Promise.all(this.slots.map((s) => this.send<GraphInfo>(s, { op: 'loadGraph', key, path: modelPath, opts })));
    return infos[0];
  }

  async loadModule(key: string, tensors: Record<string, RawTensor>): Promise<void> {
    await Promise.all(this.slots.map((s) => this.send(s, { op: 'loadModule', key, tensors })));
  }

  async unloadModule(key: string): Promise<void> {
    await Promise.all(this.slots.map((s) => this.send(s, { op: 'unloadModule', key })));
  }

  async run(req: RunRequest): Promise<Float32Array[]> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      return await this.send<Float32Array[]>(slot, { op: 'run', req });
    } finally {
      slot.busy--;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.slots.map((s) => this.send(s, { op: 'close' }).catch(() => undefined)));
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
