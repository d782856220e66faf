import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { badRequest } from '../errors';
import { fsyncPath, writeFileDurably } from '../util/durableFiles';
import { removeStaleDirs } from '../util/staleDirs';

export interface IndexMeta {
  name: string;
  dims: number;
  count: number;
  /** Inner product over L2-normalised vectors, i.e. cosine. */
  space: 'ip';
  m: number;
  efConstruction: number;
  ef: number;
  /** What produced the vectors; a reload with a different source is a rebuild, never a silent mix. */
  source: Record<string, string>;
  createdAt: string;
  /** Size and sha256 of each persisted file, checked on load. */
  files?: Record<string, FileCheck>;
}

export interface FileCheck {
  bytes: number;
  sha256: string;
}

const INDEX_FILE = 'index.hnsw';
const IDS_FILE = 'ids.json';
const META_FILE = 'meta.json';

async function checkOf(file: string): Promise<FileCheck> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Leftovers of saves a crashed process never finished: `.tmp-<name>-<pid>-XXXXXX` and `<name>.old-<pid>`. */
export function removeStaleIndexTemps(parent: string): string[] {
  return removeStaleDirs(parent, /^\.tmp-.+-(\d+)-[A-Za-z0-9]{6}$|\.old-(\d+)$/);
}

export interface Hit {
  id: string;
  score: number;
}

/**
 * An HNSW index (hnswlib) plus the two-way map between hnswlib's integer labels and document ids.
 * Persistence is a directory written beside the target and renamed into place, so a crash mid-save
 * never leaves a half index where a good one was.
 */
export class VectorIndex {
  private readonly labelOf = new Map<string, number>();

  private constructor(
    private readonly hnsw: HierarchicalNSW,
    readonly meta: IndexMeta,
    private readonly ids: string[],
  ) {
    ids.forEach((id, i) => this.labelOf.set(id, i));
  }

  static create(name: string, dims: number, capacity: number, source: Record<string, string>, opts: { m?: number; efConstruction?: number; ef?: number } = {}): VectorIndex {
    const m = opts.m ?? 16;
    const efConstruction = opts.efConstruction ?? 200;
    const hnsw = new HierarchicalNSW('ip', dims);
    hnsw.initIndex({ maxElements: Math.max(capacity, 1), m, efConstruction, randomSeed: 42 });
    const meta: IndexMeta = { name, dims, count: 0, space: 'ip', m, efConstruction, ef: opts.ef ?? 100, source, createdAt: new Date().toISOString() };
    hnsw.setEf(meta.ef);
    return new VectorIndex(hnsw, meta, []);
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: string, vector: Float32Array): void {
    if (vector.length !== this.meta.dims) throw badRequest(`vector has ${vector.length} dims, index ${this.meta.name} has ${this.meta.dims}`);
    if (this.labelOf.has(id)) throw badRequest(`document id '${id}' is already in index ${this.meta.name}`);
    const label = this.ids.length;
    if (label >= this.hnsw.getMaxElements()) this.hnsw.resizeIndex(Math.ceil((label + 1) * 1.5));
    this.hnsw.addPoint(Array.from(vector), label);
    this.ids.push(id);
    this.labelOf.set(id, label);
    this.meta.count = this.ids.length;
  }

  has(id: string): boolean {
    return this.labelOf.has(id);
  }

  setEf(ef: number): void {
    this.meta.ef = ef;
    this.hnsw.setEf(ef);
  }

  search(vector: Float32Array, k: number, filter?: (id: string) => boolean): Hit[] {
    const n = Math.min(k, this.ids.length);
    if (n === 0) return [];
    if (this.meta.ef < n) this.hnsw.setEf(n);
    const res = this.hnsw.searchKnn(Array.from(vector), n, filter ? (label: number) => filter(this.ids[label]) : undefined);
    if (this.meta.ef < n) this.hnsw.setEf(this.meta.ef);
    // hnswlib's 'ip' distance is 1 - dot; report the similarity.
    return res.neighbors.map((label, i) => ({ id: this.ids[label], score: 1 - res.distances[i] }));
  }

  /**
   * Persists to `dir`: everything is written into a temporary sibling, read back (hnswlib's writer
   * does not report a full disk), hashed into meta.json, fsynced, and only then renamed into place.
   * A crash at any point leaves the previous index or none, never a half one that looks whole.
   */
  async save(dir: string): Promise<void> {
    const parent = path.dirname(dir);
    await fs.promises.mkdir(parent, { recursive: true });
    const tmp = await fs.promises.mkdtemp(path.join(parent, `.tmp-${path.basename(dir)}-${process.pid}-`));
    const old = `${dir}.old-${process.pid}`;
    try {
      await this.hnsw.writeIndex(path.join(tmp, INDEX_FILE));
      await fsyncPath(path.join(tmp, INDEX_FILE));
      await writeFileDurably(path.join(tmp, IDS_FILE), JSON.stringify(this.ids));
      const files = { [INDEX_FILE]: await checkOf(path.join(tmp, INDEX_FILE)), [IDS_FILE]: await checkOf(path.join(tmp, IDS_FILE)) };
      const meta: IndexMeta = { ...this.meta, files };
      await writeFileDurably(path.join(tmp, META_FILE), JSON.stringify(meta, null, 2));
      await VectorIndex.load(tmp); // the written files, verified as a later start will verify them
      await fsyncPath(tmp);
      if (fs.existsSync(dir)) await fs.promises.rename(dir, old);
      await fs.promises.rename(tmp, dir);
      await fsyncPath(parent);
      await fs.promises.rm(old, { recursive: true, force: true });
    } catch (err) {
      await fs.promises.rm(tmp, { recursive: true, force: true });
      // A failure between the two renames must not lose the index that was there.
      if (!fs.existsSync(dir) && fs.existsSync(old)) await fs.promises.rename(old, dir).catch(() => undefined);
      throw err;
    }
  }

  static readMeta(dir: string): IndexMeta | undefined {
    const f = path.join(dir, META_FILE);
    if (!fs.existsSync(f)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8')) as IndexMeta;
    } catch {
      throw new Error(`${f} is not valid JSON`);
    }
  }

  /** Loads a persisted index, checking every file against meta.json and the id list against the graph. */
  static async load(dir: string): Promise<VectorIndex> {
    const meta = VectorIndex.readMeta(dir);
    if (!meta) throw new Error(`no index at ${dir}`);
    if (!meta.files?.[INDEX_FILE] || !meta.files[IDS_FILE]) throw new Error(`${path.join(dir, META_FILE)} records no file checksums (written by an older version)`);
    for (const [name, want] of Object.entries(meta.files)) {
      const got = await checkOf(path.join(dir, name));
      if (got.bytes !== want.bytes || got.sha256 !== want.sha256)
        throw new Error(`${path.join(dir, name)} has ${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}…; meta.json records ${want.bytes} bytes, ${want.sha256.slice(0, 12)}…`);
    }
    const ids = JSON.parse(await fs.promises.readFile(path.join(dir, IDS_FILE), 'utf8')) as unknown;
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new Error(`${path.join(dir, IDS_FILE)} is not a list of ids`);
    if (ids.length !== meta.count || new Set(ids).size !== ids.length)
      throw new Error(`${path.join(dir, IDS_FILE)} has ${ids.length} ids (${new Set(ids).size} distinct); meta.json says ${meta.count}`);
    const hnsw = new HierarchicalNSW('ip', meta.dims);
    await hnsw.readIndex(path.join(dir, INDEX_FILE));
    if (hnsw.getCurrentCount() !== ids.length) throw new Error(`${path.join(dir, INDEX_FILE)} holds ${hnsw.getCurrentCount()} vectors for ${ids.length} ids`);
    hnsw.setEf(meta.ef);
    return new VectorIndex(hnsw, meta, ids as string[]);
  }
}
