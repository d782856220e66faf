import { LRUCache } from 'lru-cache';

/**
 * Query embeddings keyed by (task id, task activation, normalised query). The activation (unique per
 * load, even of the same version string) is what makes a swap safe: a new version never finds the
 * old version's vectors.
 */
export class QueryCache {
  private readonly lru: LRUCache<string, Float32Array> | undefined;
  hits = 0;
  misses = 0;

  constructor(
    max: number,
    ttlMs: number,
    private readonly onLookup?: (hit: boolean) => void,
  ) {
    this.lru = max > 0 ? new LRUCache<string, Float32Array>({ max, ttl: ttlMs > 0 ? ttlMs : undefined }) : undefined;
  }

  static normalise(q: string): string {
    return q.normalize('NFC').trim().replace(/\s+/g, ' ');
  }

  async get(task: string, activation: string, query: string, compute: () => Promise<Float32Array>): Promise<Float32Array> {
    if (!this.lru) return compute();
    const key = `${task}\u0000${activation}\u0000${QueryCache.normalise(query)}`;
    const have = this.lru.get(key);
    this.onLookup?.(have !== undefined);
    if (have) {
      this.hits++;
      return have;
    }
    this.misses++;
    const v = await compute();
    this.lru.set(key, v);
    return v;
  }
}
