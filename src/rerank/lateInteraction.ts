import crypto from 'node:crypto';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { Collection } from '../data/beir';
import { Encoded } from '../text/tokenizer';
import { indexesDir } from '../paths';
import { TaskVersion } from '../tasks/registry';
import { log } from '../log';
import { MaxSimKernel, MaxSimQuery } from './maxsimKernel';
import { LateInteractionSettings } from '../tasks/rerankSettings';
import { QuantizedStates, quantize, storedBytes, unitRows } from './tokenStates';
import { TokenStore } from './tokenStore';

/** A candidate to score: `id` only when it is a document of the served collection (its stored states are used). */
export interface LateCandidate {
  id?: string;
  text: string;
}

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** The settings of a late-interaction task (its manifest block, with defaults). */
export const settingsOf = (t: TaskVersion): LateInteractionSettings => t.manifest?.lateInteraction ?? LateInteractionSettings.parse({});

/** Encoded windows of one text: one when truncating, overlapping ones (best counts) when chunking. */
export function documentWindows(t: TaskVersion, text: string): Encoded[] {
  const s = settingsOf(t);
  const enc = t.encoder;
  const pieces = enc.tokenizer.pieces(enc.target.prefixes.document + text);
  const body = Math.max(1, enc.target.maxLength.document - 2);
  const wrap = (p: number[]): Encoded => {
    const ids = [enc.tokenizer.cls, ...p, enc.tokenizer.sep];
    return { ids, typeIds: new Array(ids.length).fill(0) };
  };
  if (s.longDocuments === 'truncate' || pieces.length <= body) return [wrap(pieces.slice(0, body))];
  const stride = Math.max(1, body - Math.min(s.chunkOverlap, body - 1));
  const out: Encoded[] = [];
  for (let start = 0; out.length < s.maxChunks; start += stride) {
    out.push(wrap(pieces.slice(start, start + body)));
    if (start + body >= pieces.length) break;
  }
  return out;
}

/**
 * Late-interaction re-ranking: candidates of the served collection are read from the task's token
 * store (built once per task version and collection, on disk); other texts are encoded on the fly and
 * cached by (task activation, text hash). Scores come from the compiled MaxSim kernel; a document's
 * score is its best window's.
 */
export class LateInteraction {
  private readonly stores = new Map<string, Promise<TokenStore>>();
  private readonly ready = new Map<string, TokenStore>();
  private readonly cache: LRUCache<string, QuantizedStates[]>;

  constructor(
    private readonly kernel: MaxSimKernel,
    private readonly collection: Collection | undefined,
    cacheBytes = 64 << 20,
  ) {
    this.cache = new LRUCache({
      maxSize: Math.max(1, cacheBytes),
      sizeCalculation: (v) =>
        Math.max(
          1,
          v.reduce((n, c) => n + storedBytes(c), 0),
        ),
    });
  }

  /** What produced a store's states: any change (weights, lengths, chunking) gives another store. */
  private source(t: TaskVersion): Record<string, string> {
    const s = settingsOf(t);
    return {
      collection: this.collection?.dir ?? '',
      docs: String(this.collection?.docs.length ?? 0),
      task: t.id,
      version: t.version,
      weightsSha256: t.weightsSha256 ?? 'backbone',
      graph: t.encoder.target.graph,
      titleSeparator: t.encoder.target.text.titleSeparator,
      documentMaxLength: String(t.encoder.target.maxLength.document),
      longDocuments: s.longDocuments === 'chunk' ? `chunk:${s.chunkOverlap}:${s.maxChunks}` : 'truncate',
      storage: s.storage,
    };
  }

  storeDir(t: TaskVersion): string {
    const key = sha(JSON.stringify(this.source(t))).slice(0, 12);
    return path.join(indexesDir(), `tokens-${this.collection?.name ?? 'none'}-${key}`);
  }

  /** The task's token store of the served collection: reused when verified, else built (with progress). */
  storeFor(t: TaskVersion): Promise<TokenStore> {
    if (!this.collection) return Promise.reject(new Error('no collection is configured'));
    const dir = this.storeDir(t);
    let p = this.stores.get(dir);
    if (!p) {
      const source = this.source(t);
      const docs = this.collection.docs.map((d) => ({ id: d.id, text: t.encoder.documentText(d) }));
      p = (async () =>
        (await TokenStore.open(dir, source)) ??
        TokenStore.build(
          dir,
          source,
          docs,
          (part) =>
            this.encodeDocuments(
              t,
              part.map((d) => d.text),
            ),
          { label: `token states ${this.collection!.name}` },
        ))();
      p.then(
        (s) => this.ready.set(dir, s),
        (err) => {
          this.stores.delete(dir);
          log.error({ dir, err: (err as Error).message }, 'token store failed');
        },
      );
      this.stores.set(dir, p);
    }
    return p;
  }

  /** Unit-length, quantised windows of each text. */
  async encodeDocuments(t: TaskVersion, texts: string[]): Promise<QuantizedStates[][]> {
    const windows = texts.map((x) => documentWindows(t, x));
    const rows = windows.flat();
    const states = await t.encoder.tokenStates(rows, 'document');
    const quantized = states.map((st, k) => {
      const dims = st.length / rows[k].ids.length;
      return quantize(unitRows(st, dims), dims);
    });
    let k = 0;
    return windows.map((w) => w.map(() => quantized[k++]));
  }

  async encodeQuery(t: TaskVersion, query: string): Promise<MaxSimQuery> {
    const row = t.encoder.tokenize([query], 'query')[0];
    const [states] = await t.encoder.tokenStates([row], 'query');
    const dims = states.length / row.ids.length;
    return { states: unitRows(states, dims), tokens: row.ids.length };
  }

  async score(t: TaskVersion, query: string, candidates: LateCandidate[]): Promise<number[]> {
    const s = settingsOf(t);
    const store = this.collection ? this.ready.get(this.storeDir(t)) : undefined;
    // Collection candidates without a store yet: build it in the background; this request encodes on the fly.
    if (this.collection && !store && candidates.some((c) => c.id !== undefined)) void this.storeFor(t).catch(() => undefined);
    const q = this.encodeQuery(t, query);
    q.catch(() => undefined); // awaited below; a document encoding failing first must not leave it unhandled
    const perDoc: (QuantizedStates[] | undefined)[] = candidates.map((c) => (c.id !== undefined && store ? store.read(c.id) : undefined));
    const missing = candidates.map((c, i) => ({ c, i })).filter(({ i }) => !perDoc[i]);
    const keyOf = (text: string) => `${t.activation}\u0000${s.longDocuments}:${s.chunkOverlap}:${s.maxChunks}\u0000${sha(text)}`;
    const toEncode = missing.filter(({ c, i }) => !(perDoc[i] = this.cache.get(keyOf(c.text))));
    if (toEncode.length) {
      const enc = await this.encodeDocuments(
        t,
        toEncode.map(({ c }) => c.text),
      );
      toEncode.forEach(({ c, i }, k) => {
        perDoc[i] = enc[k];
        this.cache.set(keyOf(c.text), enc[k]);
      });
    }
    const flat = perDoc.flatMap((w) => w!);
    const scores = await this.kernel.score(await q, flat, s.specialTokens);
    let k = 0;
    return perDoc.map((w) => {
      let best = -Infinity;
      for (let j = 0; j < w!.length; j++) best = Math.max(best, scores[k++]);
      return best;
    });
  }

  /** Forgets on-the-fly encodings (benchmarks measure the uncached path with it). */
  clearCache(): void {
    this.cache.clear();
  }

  async close(): Promise<void> {
    for (const s of this.ready.values()) s.close();
    this.ready.clear();
    this.stores.clear();
    await this.kernel.close();
  }
}
