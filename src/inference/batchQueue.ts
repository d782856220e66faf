import { AsideError } from '../errors';
import { Encoded, TextTokenizer, TokenBatch } from '../text/tokenizer';

export interface BatchLimits {
  /** Rows per forward pass. */
  maxBatch: number;
  /** Padded tokens (rows × longest row) per forward pass. */
  maxBatchTokens: number;
  /** How long the first row of a batch may wait for company. */
  maxWaitMs: number;
  /** Rows waiting at most; beyond this, requests are refused with 429. */
  maxQueue: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxBatch: 32, maxBatchTokens: 16384, maxWaitMs: 2, maxQueue: 4096 };

interface Pending {
  row: Encoded;
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
}

export interface BatchStats {
  onBatch?(rows: number, paddedTokens: number): void;
}

/**
 * Dynamic micro-batching for one task version and one output kind. Rows from concurrent requests
 * join one queue; a batch leaves when it is full (rows or padded tokens) or when its oldest row has
 * waited maxWaitMs. Rows are sorted by length inside each flush so batches pad little.
 */
export class BatchQueue {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (batch: TokenBatch) => Promise<Float32Array[]>,
    private readonly limits: BatchLimits,
    private readonly stats: BatchStats = {},
  ) {}

  get depth(): number {
    return this.pending.length;
  }

  submit(rows: Encoded[]): Promise<Float32Array[]> {
    if (this.pending.length + rows.length > this.limits.maxQueue && this.pending.length > 0) {
      throw new AsideError('overloaded', `inference queue is full (${this.pending.length} rows waiting); retry shortly`, { retryAfterSeconds: 1 });
    }
    const promises = rows.map((row) => new Promise<Float32Array>((resolve, reject) => this.pending.push({ row, resolve, reject })));
    if (this.pending.length >= this.limits.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.limits.maxWaitMs);
    return Promise.all(promises);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const all = this.pending.sort((a, b) => a.row.ids.length - b.row.ids.length);
    this.pending = [];
    let start = 0;
    while (start < all.length) {
      let end = start;
      let longest = 0;
      while (end < all.length && end - start < this.limits.maxBatch) {
        const len = Math.max(longest, all[end].row.ids.length);
        if (end > start && len * (end - start + 1) > this.limits.maxBatchTokens) break;
        longest = len;
        end++;
      }
      const group = all.slice(start, end);
      start = end;
      const batch = TextTokenizer.batch(group.map((p) => p.row));
      this.stats.onBatch?.(batch.batch, batch.batch * batch.seqLen);
      this.run(batch).then(
        (res) => group.forEach((p, i) => p.resolve(res[i])),
        (err: Error) => group.forEach((p) => p.reject(err)),
      );
    }
  }
}
