import fs from 'node:fs';
import path from 'node:path';
import { DurableWriter, fileDigest, writeFileDurablySync } from '../util/durableFiles';
import { progress } from '../util/progress';
import { log } from '../log';
import { QuantizedStates, storedBytes } from './tokenStates';

const FORMAT = 'aside-token-states/1';

/** What the store's file holds, and what produced it (compared on open: any difference rebuilds). */
export interface TokenStoreMeta {
  format: typeof FORMAT;
  source: Record<string, string>;
  dims: number;
  ids: string[];
  /** Per document: its first record and how many (one per chunk). */
  docs: [first: number, count: number][];
  /** Per record: byte offset in states.bin and token count. */
  records: [offset: number, tokens: number][];
  bytes: number;
  sha256: string;
}

/** Encodes a batch of documents into their quantised token states, one or more chunks per document. */
export type DocumentEncoder = (docs: { id: string; text: string }[]) => Promise<QuantizedStates[][]>;

/**
 * Quantised token states of a collection on disk: `states.bin` (per record: float32 scales, then int8
 * values) and `meta.json` (record table, size and sha256 of states.bin). Documents are read with
 * positional reads per query, so the states never count against the server's resident memory.
 */
export class TokenStore {
  private readonly byId: Map<string, number>;

  private constructor(
    readonly dir: string,
    readonly meta: TokenStoreMeta,
    private readonly fd: number,
  ) {
    this.byId = new Map(meta.ids.map((id, i) => [id, i]));
  }

  get size(): number {
    return this.meta.ids.length;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** One document's chunks, read from disk. */
  read(id: string): QuantizedStates[] | undefined {
    const i = this.byId.get(id);
    if (i === undefined) return undefined;
    const [first, count] = this.meta.docs[i];
    const dims = this.meta.dims;
    const out: QuantizedStates[] = [];
    for (let r = first; r < first + count; r++) {
      const [offset, tokens] = this.meta.records[r];
      const buf = Buffer.alloc(storedBytes({ tokens, dims }));
      const got = fs.readSync(this.fd, buf, 0, buf.length, offset);
      if (got !== buf.length) throw new Error(`token store ${this.dir} is truncated at record ${r}`);
      const scales = new Float32Array(tokens);
      for (let t = 0; t < tokens; t++) scales[t] = buf.readFloatLE(t * 4);
      out.push({ tokens, dims, scales, values: new Int8Array(buf.buffer, buf.byteOffset + tokens * 4, tokens * dims) });
    }
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  static readMeta(dir: string): TokenStoreMeta | undefined {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as TokenStoreMeta;
      return m.format === FORMAT ? m : undefined;
    } catch {
      return undefined;
    }
  }

  /** Opens a store after checking its size and sha256 against meta.json; undefined if absent, stale or damaged. */
  static async open(dir: string, source: Record<string, string>): Promise<TokenStore | undefined> {
    const meta = TokenStore.readMeta(dir);
    if (!meta || !sameSource(meta.source, source)) return undefined;
    const file = path.join(dir, 'states.bin');
    if (!fs.existsSync(file)) return undefined;
    const digest = await fileDigest(file);
    if (digest.bytes !== meta.bytes || digest.sha256 !== meta.sha256) {
      log.warn({ dir, expected: { bytes: meta.bytes, sha256: meta.sha256 }, found: digest }, 'token store does not match its recorded size and sha256; not used');
      return undefined;
    }
    return new TokenStore(dir, meta, fs.openSync(file, 'r'));
  }

  /** Encodes every document (with progress), streaming records to disk, then commits states and meta durably. */
  static async build(dir: string, source: Record<string, string>, docs: { id: string; text: string }[], encode: DocumentEncoder, opts: { batch?: number; label?: string } = {}): Promise<TokenStore> {
    const batch = opts.batch ?? 64;
    // Leftovers of builds a crash or exit cut short are never read; clear them before writing anew.
    if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (f.startsWith('states.bin.tmp-')) fs.rmSync(path.join(dir, f), { force: true });
    const states = new DurableWriter(path.join(dir, 'states.bin'));
    const meta: Omit<TokenStoreMeta, 'bytes' | 'sha256'> = { format: FORMAT, source, dims: 0, ids: [], docs: [], records: [] };
    let offset = 0;
    const bar = progress(opts.label ?? 'token states', docs.length, 'docs');
    try {
      // meta.json goes first: an old meta never describes a new states.bin (open() also checks the hash).
      fs.rmSync(path.join(dir, 'meta.json'), { force: true });
      for (let s = 0; s < docs.length; s += batch) {
        const part = docs.slice(s, s + batch);
        const encoded = await encode(part);
        part.forEach((d, i) => {
          meta.ids.push(d.id);
          meta.docs.push([meta.records.length, encoded[i].length]);
          for (const c of encoded[i]) {
            meta.dims ||= c.dims;
            const buf = Buffer.alloc(storedBytes(c));
            for (let t = 0; t < c.tokens; t++) buf.writeFloatLE(c.scales[t], t * 4);
            buf.set(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength), c.tokens * 4);
            states.write(buf);
            meta.records.push([offset, c.tokens]);
            offset += buf.length;
          }
        });
        bar.tick(part.length);
      }
      bar.stop();
      const digest = states.commit();
      writeFileDurablySync(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, ...digest }));
    } catch (err) {
      states.abort();
      throw err;
    }
    const store = await TokenStore.open(dir, source);
    if (!store) throw new Error(`token store ${dir} failed verification right after it was written`);
    log.info({ dir, docs: store.size, bytes: store.meta.bytes, bytesPerDoc: Math.round(store.meta.bytes / Math.max(1, store.size)) }, 'token store built');
    return store;
  }
}

function sameSource(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
