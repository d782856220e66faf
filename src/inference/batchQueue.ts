import { Encoded, TokenBatch } from '../text/tokenizer';

export interface BatchLimits {
  /** Rows per forward pass. */
  maxBatch: number;
  /** Padded tokens (rows × longest row) per forward pass. */
  maxBatchTokens: number;
  /**
   * Kept for configuration compatibility and ignored: the scheduler forms a batch the moment a worker
   * slot is free, so rows wait only while every worker is busy (docs/serving.md).
   */
  maxWaitMs: number;
  /** Rows admitted at most (queued + in flight, every task together); beyond this, 429. */
  maxQueue: number;
  /** Let rows of different tasks that share a stacked graph fill one forward pass (absent: yes). */
  mixTasks?: boolean;
}

export const DEFAULT_LIMITS: BatchLimits = { maxBatch: 32, maxBatchTokens: 16384, maxWaitMs: 0, maxQueue: 4096, mixTasks: true };

export interface BatchStats {
  onBatch?(rows: number, paddedTokens: number): void;
}

/** Runs one padded batch on the backend and returns one vector (or one-element score) per row. */
export type RunBatch = (batch: TokenBatch) => Promise<Float32Array[]>;

/**
 * How a queue's rows may share a forward pass with other tasks' rows (docs/serving.md, "Mixed-task
 * batches"): queues of one `group` run on the same stacked graph, whose module inputs hold the
 * tensors of every task in the batch and whose `task_index` input says which one each row uses.
 */
export interface MixTarget {
  /** Same stacked graph, same module tensor shapes, same output and text class. */
  group: string;
  /** This queue's module key. */
  module: string;
  /** Runs a batch whose row i uses module `modules[i]`. */
  run: (batch: TokenBatch, modules: string[]) => Promise<Float32Array[]>;
}

/** Rows a batch already holds, and its longest row: where another queue's rows start filling it. */
export interface BatchFill {
  rows: number;
  longest: number;
}

/** One row waiting for a forward pass; `owner` is the request it belongs to. */
export interface QueuedRow<O> {
  row: Encoded;
  owner: O;
  /** Index of this row in its request's answer. */
  index: number;
  enqueuedAt: number;
  /** Set after its batch failed: it runs alone, so only a row that fails by itself fails its request. */
  solo?: boolean;
}

/**
 * The rows of one (graph, module, output, text class): what may share a forward pass. FIFO across
 * requests, so an early request is never overtaken by a later one of the same queue; a request's own
 * rows are sorted by length when they arrive, so its batches pad little. The scheduler decides when a
 * batch leaves and from which queue; this class only decides which rows make it.
 */
export class RowQueue<O> {
  private rows: QueuedRow<O>[] = [];
  /** Deficit round-robin credit, in padded tokens (the scheduler's bookkeeping). */
  deficit = 0;

  constructor(
    readonly key: string,
    readonly run: RunBatch,
    readonly stats: BatchStats = {},
    readonly mix?: MixTarget,
  ) {}

  get size(): number {
    return this.rows.length;
  }

  push(rows: QueuedRow<O>[]): void {
    this.rows.push(...[...rows].sort((a, b) => a.row.ids.length - b.row.ids.length));
  }

  /** Puts rows back at the head (a failed batch's rows, to be retried one by one). */
  unshift(rows: QueuedRow<O>[]): void {
    this.rows.unshift(...rows);
  }

  /** Removes every row of `owner`; returns how many there were. */
  drop(owner: O): number {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.owner !== owner);
    return before - this.rows.length;
  }

  /**
   * The next rows from the head that fit a batch already holding `fill` (empty: a new batch) under
   * maxBatch and maxBatchTokens; a new batch gets at least one row, and a row marked solo always goes
   * alone. `cost` is what this queue's rows take of the batch, in padded tokens.
   */
  plan(limits: Pick<BatchLimits, 'maxBatch' | 'maxBatchTokens'>, fill: BatchFill = { rows: 0, longest: 0 }): { count: number; cost: number; longest: number } {
    const head = this.rows[0];
    if (!head || (head.solo && fill.rows > 0)) return { count: 0, cost: 0, longest: fill.longest };
    if (head.solo) return { count: 1, cost: head.row.ids.length, longest: head.row.ids.length };
    let count = 0;
    let longest = fill.longest;
    while (count < this.rows.length && fill.rows + count < limits.maxBatch && !this.rows[count].solo) {
      const len = Math.max(longest, this.rows[count].row.ids.length);
      if (fill.rows + count > 0 && len * (fill.rows + count + 1) > limits.maxBatchTokens) break;
      longest = len;
      count++;
    }
    return { count, cost: count * longest, longest };
  }

  take(count: number): QueuedRow<O>[] {
    return this.rows.splice(0, count);
  }
}
