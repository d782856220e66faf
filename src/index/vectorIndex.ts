import fs from 'node:fs';
import path from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { badRequest } from '../errors';

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

  async save(dir: string): Promise<void> {
    const parent = path.dirname(dir);
    fs.mkdirSync(parent, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(parent, `.tmp-${path.basename(dir)}-`));
    try {
      await this.hnsw.writeIndex(path.join(tmp, 'index.hnsw'));
      fs.writeFileSync(path.join(tmp, 'ids.json'), JSON.stringify(this.ids));
      fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(this.meta, null, 2));
      const old = `${dir}.old-${process.pid}`;
      if (fs.existsSync(dir)) fs.renameSync(dir, old);
      fs.renameSync(tmp, dir);
      fs.rmSync(old, { recursive: true, force: true });
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  static readMeta(dir: string): IndexMeta | undefined {
    const f = path.join(dir, 'meta.json');
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as IndexMeta) : undefined;
  }

  static async load(dir: string): Promise<VectorIndex> {
    const meta = VectorIndex.readMeta(dir);
    if (!meta) throw new Error(`no index at ${dir}`);
    const ids = JSON.parse(fs.readFileSync(path.join(dir, 'ids.json'), 'utf8')) as string[];
    const hnsw = new HierarchicalNSW('ip', meta.dims);
    await hnsw.readIndex(path.join(dir, 'index.hnsw'));
    hnsw.setEf(meta.ef);
    return new VectorIndex(hnsw, meta, ids);
  }
}
