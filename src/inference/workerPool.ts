import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InferenceBackend } from './backend';
import { GraphInfo, RawTensor, RunRequest } from './graphRunner';
import { GraphSource } from './graphSource';
import { SessionOptions } from './session';
import { log } from '../log';
import { AsideError } from '../errors';

export type PoolMessage =
  | { id: number; op: 'loadGraph'; key: string; path: GraphSource; opts: SessionOptions }
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
  /** Settles once the worker holds every graph and module (a replacement replays them first). */
  ready: Promise<void>;
  isReady: boolean;
  dead: boolean;
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
 * Loads go to every worker; a forward pass goes to the ready worker with the fewest passes
 * outstanding. A worker that dies fails its pending work at once (503) and is replaced by a new one
 * that reloads every graph and module before it takes work: the pool remembers what it loaded.
 */
export class WorkerPoolBackend implements InferenceBackend {
  readonly name: string;
  readonly batchSlots: number;
  private readonly slots: Slot[];
  private readonly graphs = new Map<string, { path: GraphSource; opts: SessionOptions }>();
  private readonly modules = new Map<string, Record<string, RawTensor>>();
  private nextId = 1;
  private closing = false;
  private closed = false;
  /** Workers started to replace dead ones. */
  replacements = 0;

  constructor(size: number) {
    const n = Math.max(1, size);
    this.name = `worker-threads x${n}`;
    this.batchSlots = n;
    this.slots = Array.from({ length: n }, () => this.startSlot(false));
  }

  /** The live worker threads (operations and tests: terminating one exercises replacement). */
  get workers(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  private startSlot(replay: boolean): Slot {
    const slot: Slot = { worker: spawnWorker(), busy: 0, waiting: new Map(), ready: Promise.resolve(), isReady: !replay, dead: false };
    slot.worker.on('message', (reply: PoolReply) => {
      const w = slot.waiting.get(reply.id);
      if (!w) return;
      slot.waiting.delete(reply.id);
      if (slot.waiting.size === 0) slot.worker.unref();
      if (reply.ok) w.resolve(reply.value);
      else w.reject(new Error(reply.error));
    });
    slot.worker.on('error', (err) => log.error({ err: err.message }, 'inference worker failed'));
    slot.worker.on('exit', (code) => this.lost(slot, code));
    slot.worker.unref();
    if (replay) {
      slot.ready = this.replay(slot).then(() => {
        slot.isReady = true;
      });
      slot.ready.catch(() => undefined);
    }
    return slot;
  }

  private lost(slot: Slot, code: number): void {
    if (slot.dead) return;
    slot.dead = true;
    const err = new AsideError('unavailable', `an inference worker stopped (exit code ${code}) before answering; retry the request`, { retryAfterSeconds: 1 });
    for (const w of slot.waiting.values()) w.reject(err);
    slot.waiting.clear();
    if (this.closing) return;
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    // A replacement that dies before it is ready (e.g. out of memory while loading) is not
    // restarted in a tight loop: the dead slot answers 503 for a second first.
    const delay = slot.isReady ? 0 : 1000;
    slot.isReady = false;
    log.error({ code, pending: slot.busy, restartInMs: delay }, 'inference worker exited; starting a replacement');
    const replace = () => {
      if (this.closing || this.slots[i] !== slot) return;
      this.replacements++;
      this.slots[i] = this.startSlot(true);
    };
    if (delay) setTimeout(replace, delay).unref();
    else replace();
  }

  /** Loads into a replacement worker what every other worker holds. */
  private async replay(slot: Slot): Promise<void> {
    await Promise.all([...this.graphs].map(([key, g]) => this.send(slot, { op: 'loadGraph', key, path: g.path, opts: g.opts })));
    await Promise.all([...this.modules].map(([key, tensors]) => this.send(slot, { op: 'loadModule', key, tensors })));
    log.info({ graphs: this.graphs.size, modules: this.modules.size }, 'replacement inference worker ready');
  }

  private send<T>(slot: Slot, msg: Outgoing): Promise<T> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    if (slot.dead) return Promise.reject(new AsideError('unavailable', 'the inference worker stopped; retry the request', { retryAfterSeconds: 1 }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // Referenced only while it owes an answer: an idle pool never keeps the process alive.
      if (slot.waiting.size === 0) slot.worker.ref();
      slot.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ ...msg, id });
    });
  }

  async loadGraph(key: string, source: GraphSource, opts: SessionOptions): Promise<GraphInfo> {
    const infos = await Promise.all(this.slots.map((s) => this.send<GraphInfo>(s, { op: 'loadGraph', key, path: source, opts })));
    this.graphs.set(key, { path: source, opts });
    return infos[0];
  }

  async loadModule(key: string, tensors: Record<string, RawTensor>): Promise<void> {
    this.modules.set(key, tensors);
    await Promise.all(this.slots.map((s) => this.send(s, { op: 'loadModule', key, tensors }))).catch((err) => {
      this.modules.delete(key);
      throw err;
    });
  }

  async unloadModule(key: string): Promise<void> {
    this.modules.delete(key);
    await Promise.all(this.slots.map((s) => this.send(s, { op: 'unloadModule', key })));
  }

  async run(req: RunRequest): Promise<Float32Array[]> {
    const ready = this.slots.filter((s) => s.isReady);
    const slot = (ready.length ? ready : this.slots).reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      await slot.ready;
      return await this.send<Float32Array[]>(slot, { op: 'run', req });
    } finally {
      slot.busy--;
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(this.slots.map((s) => this.send(s, { op: 'close' }).catch(() => undefined)));
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
