import { AsideError } from '../errors';
import { Encoded, TextTokenizer } from '../text/tokenizer';
import { BatchLimits, BatchStats, MixTarget, QueuedRow, RowQueue, RunBatch } from './batchQueue';
import { currentScope, RequestScope } from './requestScope';

/** What the scheduler reports as it works (Prometheus metrics are built on these). */
export interface SchedulerEvents {
  admitted?(rows: number): void;
  refused?(rows: number): void;
  /** Rows removed before they ran: their request was cancelled, timed out or failed elsewhere. */
  dropped?(rows: number): void;
  /** A batch left for a worker; `tasks` > 1 when rows of several tasks share it (a mixed batch). */
  batch?(rows: number, paddedTokens: number, waitsMs: number[], tasks: number): void;
}

export interface SchedulerSnapshot {
  queuedRows: number;
  inflightRows: number;
  /** Admitted rows still being tokenised. */
  reservedRows: number;
  inflightBatches: number;
  batchSlots: number;
  maxQueue: number;
  admitting: boolean;
  /** True when one more row would be refused. */
  saturated: boolean;
}

/** One admitted request: its rows' results, and how it ends (all rows answered, or the first failure). */
export class Ticket {
  readonly promise: Promise<Float32Array[]>;
  private results: Float32Array[] = [];
  private remaining = 0;
  private resolve!: (v: Float32Array[]) => void;
  private reject!: (e: Error) => void;
  settled = false;
  readonly queues = new Set<RowQueue<Ticket>>();
  private unlisten: (() => void) | undefined;

  constructor(
    public reserved: number,
    readonly scope: RequestScope | undefined,
  ) {
    this.promise = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // Rejections are handed to whoever awaits the promise; one never awaited must not crash the process.
    this.promise.catch(() => undefined);
  }

  expect(rows: number, onAbort: (reason: Error) => void): void {
    this.remaining = rows;
    this.results = new Array(rows);
    if (rows === 0) return this.finish();
    const signal = this.scope?.signal;
    if (!signal) return;
    const listener = () => onAbort(signal.reason as Error);
    signal.addEventListener('abort', listener, { once: true });
    this.unlisten = () => signal.removeEventListener('abort', listener);
  }

  get expired(): boolean {
    return this.scope?.signal.aborted === true || (this.scope?.deadline !== undefined && Date.now() > this.scope.deadline);
  }

  deliver(index: number, v: Float32Array): void {
    if (this.settled) return;
    this.results[index] = v;
    if (--this.remaining === 0) this.finish();
  }

  private finish(): void {
    this.settled = true;
    this.unlisten?.();
    this.resolve(this.results);
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.unlisten?.();
    this.reject(err);
  }
}

/** Rows of one queue in a batch; a mixed batch has several, the first being the queue whose turn it was. */
interface BatchPart {
  queue: RowQueue<Ticket>;
  rows: QueuedRow<Ticket>[];
}

/**
 * Mixing tops a batch up to this many rows at most. On CPU a pass costs about its padded tokens: one
 * pass over a few rows of several tasks saves the per-pass overhead of several tiny passes, while
 * larger mixed batches only pad more and hold every row until the slowest is done (bench s6).
 */
const MIX_MAX_ROWS = 8;

/**
 * Whether the scheduler mixes tasks, from `ASIDE_MIXED_BATCHES` and the provider sessions got: `auto`
 * mixes on a GPU, where a pass of one query leaves the device idle and costs about what a pass of 8
 * does; on CPU, bench s6 measured no clear gain (a pass costs its padded tokens either way).
 */
export function mixesTasks(setting: string, provider: string): boolean {
  return setting === 'auto' ? provider === 'cuda' : ['on', '1', 'true'].includes(setting);
}

const timeoutError = () => new AsideError('timeout', 'the request deadline passed before its inputs ran');

/**
 * The one place that decides what runs when (docs/serving.md, "Scheduler"):
 * - admission: rows queued, in flight or being tokenised count against `maxQueue`; a request that
 *   would exceed it is refused at once (429 with Retry-After), never parked in an unbounded queue;
 * - pull: a batch is formed only when a worker is free (`batchSlots`: one batch per worker), so a
 *   lone request runs at once and queued rows stay cancellable until they run; with several workers
 *   free, the waiting rows are split between them;
 * - fairness: deficit round-robin by padded tokens across queues (one per task, output and text
 *   class), so a hot task or a large document batch cannot hold back a single query for long;
 * - cancellation: rows of a request whose client left or whose deadline passed are dropped unrun;
 * - mixing: a batch with room left takes rows of other tasks that share its stacked graph, so tasks
 *   that each see a trickle of requests still run in full batches (one forward pass, per-row modules);
 * - isolation: a failed multi-row batch is retried row by row, so only the bad row's request fails.
 */
export class Scheduler {
  private readonly queues = new Map<string, RowQueue<Ticket>>();
  /** Queues holding rows, in round-robin order. */
  private ring: RowQueue<Ticket>[] = [];
  private cursor = 0;
  /** Whether ring[cursor] already got its quantum on this visit. */
  private credited = false;
  private queued = 0;
  private inflight = 0;
  private reserved = 0;
  private inflightBatches = 0;
  private admitting = true;
  private closedReason = '';
  /** Completed rows of the last seconds: the service rate behind Retry-After. */
  private completions: { at: number; rows: number }[] = [];
  events: SchedulerEvents = {};

  constructor(
    readonly limits: BatchLimits,
    readonly batchSlots: number,
  ) {}

  /** Token credit a queue gets per visit: small against a full batch, so short batches go first. */
  private get quantum(): number {
    return Math.max(1, Math.floor(this.limits.maxBatchTokens / 8));
  }

  queue(key: string, run: RunBatch, stats?: BatchStats, mix?: MixTarget): RowQueue<Ticket> {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new RowQueue<Ticket>(key, run, stats, mix)));
    return q;
  }

  /** Rows waiting in the queues whose key starts with `prefix`. */
  depth(prefix: string): number {
    let n = 0;
    for (const [key, q] of this.queues) if (key.startsWith(prefix)) n += q.size;
    return n;
  }

  /** Admits `rows` rows of the current request, or throws 429/503 at once. Call before tokenising. */
  admit(rows: number): Ticket {
    if (!this.admitting) throw new AsideError('unavailable', this.closedReason, { retryAfterSeconds: 5 });
    const scope = currentScope();
    if (scope?.signal.aborted) throw scope.signal.reason as Error;
    const load = this.load;
    if (load > 0 && load + rows > this.limits.maxQueue) {
      this.events.refused?.(rows);
      const retry = this.retryAfterSeconds(load);
      throw new AsideError('overloaded', `the server is at capacity (${load} rows admitted, limit ${this.limits.maxQueue}); retry in ${retry} s`, { retryAfterSeconds: retry });
    }
    this.reserved += rows;
    this.events.admitted?.(rows);
    return new Ticket(rows, scope);
  }

  /** Gives back an admission that will not be submitted (tokenising failed). */
  release(ticket: Ticket): void {
    this.reserved -= ticket.reserved;
    ticket.reserved = 0;
  }

  /** Queues an admitted request's rows; resolves with one result per row, in order. */
  submit(ticket: Ticket, requested: RowQueue<Ticket>, rows: Encoded[]): Promise<Float32Array[]> {
    this.release(ticket);
    // Empty queues are forgotten (task versions come and go); the one registered for the key wins.
    const queue = this.queues.get(requested.key) ?? requested;
    this.queues.set(queue.key, queue);
    if (ticket.settled) return ticket.promise;
    if (ticket.expired) {
      ticket.fail(ticket.scope?.signal.aborted ? (ticket.scope.signal.reason as Error) : timeoutError());
      this.events.dropped?.(rows.length);
      return ticket.promise;
    }
    ticket.expect(rows.length, (reason) => this.abort(ticket, reason));
    if (ticket.settled) return ticket.promise;
    const now = Date.now();
    queue.push(rows.map((row, index) => ({ row, owner: ticket, index, enqueuedAt: now })));
    ticket.queues.add(queue);
    this.queued += rows.length;
    this.activate(queue);
    this.pump();
    return ticket.promise;
  }

  /** Stops admitting (shutdown); what is admitted still runs. */
  stopAdmitting(reason: string): void {
    this.admitting = false;
    this.closedReason = reason;
  }

  snapshot(): SchedulerSnapshot {
    return {
      queuedRows: this.queued,
      inflightRows: this.inflight,
      reservedRows: this.reserved,
      inflightBatches: this.inflightBatches,
      batchSlots: this.batchSlots,
      maxQueue: this.limits.maxQueue,
      admitting: this.admitting,
      saturated: this.load >= this.limits.maxQueue,
    };
  }

  private get load(): number {
    return this.queued + this.inflight + this.reserved;
  }

  private abort(ticket: Ticket, reason: Error): void {
    if (ticket.settled) return;
    let dropped = 0;
    for (const q of ticket.queues) dropped += q.drop(ticket);
    this.queued -= dropped;
    if (dropped) this.events.dropped?.(dropped);
    ticket.fail(reason);
  }

  private activate(q: RowQueue<Ticket>): void {
    if (q.size > 0 && !this.ring.includes(q)) this.ring.push(q);
  }

  private pump(): void {
    while (this.inflightBatches < this.batchSlots) {
      const parts = this.nextBatch();
      if (!parts) return;
      this.dispatch(parts);
    }
  }

  /**
   * Deficit round-robin over the queues that hold rows; expired requests are dropped on the way. The
   * batch of the queue whose turn it is may be topped up with rows of queues it can mix with.
   */
  private nextBatch(): BatchPart[] | undefined {
    while (this.ring.length) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const q = this.ring[this.cursor];
      if (q.size === 0) {
        this.leave(q);
        continue;
      }
      if (!this.credited) {
        q.deficit += this.quantum;
        this.credited = true;
      }
      // With several workers free, a batch takes only its share of what waits, so a lone large
      // request (a re-rank window, a document batch) runs on every free core at once.
      const free = this.batchSlots - this.inflightBatches;
      const share = Math.max(1, Math.ceil(this.queued / free));
      const cap = { maxBatch: Math.min(this.limits.maxBatch, share), maxBatchTokens: this.limits.maxBatchTokens };
      const plan = q.plan(cap);
      if (plan.cost > q.deficit) {
        this.cursor++;
        this.credited = false;
        continue;
      }
      q.deficit -= plan.cost;
      const parts = [{ queue: q, rows: this.takeLive(q, plan.count) }, ...this.companions(q, plan.count, plan.longest, cap)].filter((p) => p.rows.length);
      if (parts.length) return parts;
    }
    return undefined;
  }

  /** Rows of other tasks' queues that fill the rest of `lead`'s batch on its stacked graph. */
  private companions(lead: RowQueue<Ticket>, rows: number, longest: number, cap: { maxBatch: number; maxBatchTokens: number }): BatchPart[] {
    const group = lead.mix?.group;
    if (!group || this.limits.mixTasks === false || rows >= MIX_MAX_ROWS) return [];
    const out: BatchPart[] = [];
    const fill = { rows, longest };
    const limit = { ...cap, maxBatch: Math.min(cap.maxBatch, MIX_MAX_ROWS) };
    for (const other of [...this.ring.slice(this.cursor), ...this.ring.slice(0, this.cursor)]) {
      if (fill.rows >= limit.maxBatch) break;
      if (other === lead || other.mix?.group !== group) continue;
      const plan = other.plan(limit, fill);
      if (!plan.count) continue;
      // A companion pays for its rows like a turn of its own would, so mixing does not skew fairness.
      other.deficit -= plan.cost;
      fill.rows += plan.count;
      fill.longest = plan.longest;
      out.push({ queue: other, rows: this.takeLive(other, plan.count) });
    }
    return out;
  }

  /** Takes `count` rows from the head of `q`, dropping those whose request is already over. */
  private takeLive(q: RowQueue<Ticket>, count: number): QueuedRow<Ticket>[] {
    const taken = q.take(count);
    this.queued -= taken.length;
    if (q.size === 0) this.leave(q);
    const rows = taken.filter((r) => {
      if (r.owner.settled) return false;
      if (!r.owner.expired) return true;
      this.abort(r.owner, r.owner.scope?.signal.aborted ? (r.owner.scope.signal.reason as Error) : timeoutError());
      return false;
    });
    if (rows.length < taken.length) this.events.dropped?.(taken.length - rows.length);
    return rows;
  }

  private leave(q: RowQueue<Ticket>): void {
    const i = this.ring.indexOf(q);
    if (i < 0) return;
    q.deficit = 0;
    if (this.queues.get(q.key) === q) this.queues.delete(q.key);
    this.ring.splice(i, 1);
    if (i < this.cursor) this.cursor--;
    else if (i === this.cursor) this.credited = false;
  }

  private dispatch(parts: BatchPart[]): void {
    const rows = parts.flatMap((p) => p.rows);
    this.inflight += rows.length;
    this.inflightBatches++;
    const batch = TextTokenizer.batch(rows.map((r) => r.row));
    const now = Date.now();
    this.events.batch?.(
      batch.batch,
      batch.batch * batch.seqLen,
      rows.map((r) => now - r.enqueuedAt),
      parts.length,
    );
    for (const p of parts) p.queue.stats.onBatch?.(p.rows.length, p.rows.length * batch.seqLen);
    const done = () => {
      this.inflight -= rows.length;
      this.inflightBatches--;
    };
    const run =
      parts.length === 1
        ? parts[0].queue.run(batch)
        : parts[0].queue.mix!.run(
            batch,
            parts.flatMap((p) => p.rows.map(() => p.queue.mix!.module)),
          );
    run.then(
      (res) => {
        done();
        this.recordCompletion(rows.length);
        rows.forEach((r, i) => r.owner.deliver(r.index, res[i]));
        this.pump();
      },
      (err: Error) => {
        done();
        this.failed(parts, err);
        this.pump();
      },
    );
  }

  /**
   * A failed batch of several rows is not the fault of all of them: retry each alone, on its own
   * task's graph. Errors that are not about the rows (a worker died, the pool closed) fail them at once.
   */
  private failed(parts: BatchPart[], err: Error): void {
    const alive = parts.map((p) => ({ queue: p.queue, rows: p.rows.filter((r) => !r.owner.settled) }));
    if (alive.reduce((n, p) => n + p.rows.length, 0) > 1 && !(err instanceof AsideError)) {
      for (const p of alive) {
        if (!p.rows.length) continue;
        const q = this.queues.get(p.queue.key) ?? p.queue;
        this.queues.set(q.key, q);
        q.unshift(p.rows.map((r) => ({ ...r, solo: true })));
        this.queued += p.rows.length;
        this.activate(q);
      }
      return;
    }
    for (const r of alive.flatMap((p) => p.rows)) {
      const e = err instanceof AsideError ? err : new AsideError('internal', `input ${r.index} could not be encoded: ${err.message}`);
      this.abort(r.owner, e);
    }
  }

  private recordCompletion(rows: number): void {
    const now = Date.now();
    this.completions.push({ at: now, rows });
    while (this.completions.length && this.completions[0].at < now - 10_000) this.completions.shift();
  }

  /** Time until `load` admitted rows are done at the recent service rate: 1–60 s. */
  private retryAfterSeconds(load: number): number {
    if (this.completions.length < 2) return 1;
    const span = (Date.now() - this.completions[0].at) / 1000;
    const rate = this.completions.reduce((s, c) => s + c.rows, 0) / Math.max(span, 1);
    return Math.min(60, Math.max(1, Math.ceil(load / Math.max(rate, 1))));
  }
}

const perBackend = new WeakMap<object, Scheduler>();

/**
 * One scheduler per inference backend: every encoder on a backend shares it, so admission and
 * fairness are server-wide. The first caller's limits configure it (the application passes the same
 * limits everywhere).
 */
export function schedulerFor(backend: { batchSlots?: number }, limits: BatchLimits): Scheduler {
  let s = perBackend.get(backend);
  if (!s) perBackend.set(backend, (s = new Scheduler(limits, Math.max(1, backend.batchSlots ?? 1))));
  return s;
}
