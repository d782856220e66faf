import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCollection } from '../src/data/beir';
import { openCorpus } from '../src/index/corpusIndex';
import { VectorIndex } from '../src/index/vectorIndex';
import { openBaseEncoder, Encoder } from '../src/inference/encoder';
import { resolveModel } from '../src/models/catalog';
import { demoCollectionDir } from '../src/paths';

describe('HNSW index on real embeddings', () => {
  let encoder: Encoder;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-home-'));
  beforeAll(async () => {
    encoder = await openBaseEncoder(resolveModel());
  });

  it('maps ids both ways, persists atomically and reloads with its ef', async () => {
    const texts = ['the cat sat on the mat', 'stock markets fell sharply', 'a kitten is resting on a rug'];
    const vecs = await encoder.embed(texts, 'document');
    const idx = VectorIndex.create('t', 384, 2, { model: 'x' }, { ef: 50 });
    vecs.forEach((v, i) => idx.add(`doc-${i}`, v));
    expect(() => idx.add('doc-0', vecs[0])).toThrow(/already/);
    const [q] = await encoder.embed(['a cat lying on a carpet'], 'query');
    const before = idx.search(q, 3);
    expect(
      before
        .map((h) => h.id)
        .slice(0, 2)
        .sort(),
    ).toEqual(['doc-0', 'doc-2']);
    const dir = path.join(home, 'idx');
    await idx.save(dir);
    await idx.save(dir); // replacing an existing index goes through rename too
    expect(fs.readdirSync(home)).toEqual(['idx']);
    const back = await VectorIndex.load(dir);
    expect(back.meta.ef).toBe(50);
    expect(back.search(q, 3)).toEqual(before);
  });

  it('builds a collection index once and reuses it while the corpus and embedder are unchanged', async () => {
    process.env.ASIDE_HOME = home;
    try {
      const full = await loadCollection(demoCollectionDir());
      const collection = { ...full, docs: full.docs.slice(0, 64) };
      let embedded = 0;
      const embedder = {
        fingerprint: { model: 'all-MiniLM-L6-v2', test: 'index' },
        text: (d: { title: string; text: string }) => encoder.documentText(d),
        embed: async (t: string[]) => {
          embedded += t.length;
          return encoder.embed(t, 'document');
        },
      };
      const first = await openCorpus(collection, embedder);
      expect(embedded).toBe(64);
      const second = await openCorpus(collection, embedder);
      expect(embedded).toBe(64);
      expect(second.index.size).toBe(64);
      await openCorpus(collection, { ...embedder, fingerprint: { ...embedder.fingerprint, taskVersion: '2' } }).catch(() => undefined);
      expect(embedded).toBe(128); // another embedder version is another index, never a mix
      expect(first.index.meta.source.collection).toBe(collection.dir);
    } finally {
      delete process.env.ASIDE_HOME;
    }
  });
});
