import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MaxSimKernel } from '../src/rerank/maxsimKernel';
import { quantize, QuantizedStates, unitRows } from '../src/rerank/tokenStates';
import { TokenStore } from '../src/rerank/tokenStore';
import { blendScores, minMaxNormalize } from '../src/rerank/blend';
import { rerankWindow } from '../src/search/rerankStage';
import { Manifest } from '../src/tasks/manifest';

/** Written by training/aside_training/maxsim_kernel.py (numpy, float64); no Python runs here. */
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'maxsim-reference.json'), 'utf8'));

describe('MaxSim kernel against the Python reference', () => {
  let kernel: MaxSimKernel;
  beforeAll(async () => {
    kernel = await MaxSimKernel.open();
  });
  afterAll(async () => kernel.close());

  it('quantises exactly as the reference does', () => {
    for (const d of fixture.docs) {
      const q = quantize(Float32Array.from(d.states), fixture.dims);
      expect(Array.from(q.values)).toEqual(d.int8);
      q.scales.forEach((s, i) => expect(Math.abs(s - d.scales[i])).toBeLessThan(1e-9));
    }
  });

  it('scores the reference documents within 1e-4 (int8) and close to float32 MaxSim', async () => {
    const docs: QuantizedStates[] = fixture.docs.map((d: { states: number[] }) => quantize(Float32Array.from(d.states), fixture.dims));
    const scores = await kernel.score({ states: Float32Array.from(fixture.query), tokens: fixture.query_tokens }, docs, 'exclude');
    expect(scores).toHaveLength(fixture.docs.length);
    scores.forEach((s, i) => {
      expect(Math.abs(s - fixture.scores_int8[i])).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(s - fixture.scores_float[i])).toBeLessThan(0.02);
    });
  });

  it('scores windows larger than one kernel slice the same as one by one', async () => {
    const docs: QuantizedStates[] = fixture.docs.map((d: { states: number[] }) => quantize(Float32Array.from(d.states), fixture.dims));
    const many = Array.from({ length: 300 }, (_, i) => docs[i % docs.length]);
    const scores = await kernel.score({ states: Float32Array.from(fixture.query), tokens: fixture.query_tokens }, many, 'exclude');
    expect(scores).toHaveLength(300);
    scores.forEach((v, i) => expect(Math.abs(v - fixture.scores_int8[i % docs.length])).toBeLessThanOrEqual(1e-4));
  });

  it('counts special tokens only when told to', async () => {
    const docs = fixture.docs.map((d: { states: number[] }) => quantize(Float32Array.from(d.states), fixture.dims));
    const q = { states: Float32Array.from(fixture.query), tokens: fixture.query_tokens };
    const excl = await kernel.score(q, docs, 'exclude');
    const incl = await kernel.score(q, docs, 'include');
    // Two more query tokens count, and each doc's max can only grow with more document tokens.
    incl.forEach((s, i) => expect(s).not.toBeCloseTo(excl[i], 4));
  });
});

describe('token store on disk', () => {
  const dims = 8;
  const docs = Array.from({ length: 5 }, (_, i) => ({ id: `d${i}`, text: `doc ${i}` }));
  // Deterministic states per document: i + 1 windows of i + 2 tokens.
  const encode = async (part: { id: string }[]) =>
    part.map((d) => {
      const i = Number(d.id.slice(1));
      return Array.from({ length: (i % 2) + 1 }, (_, w) =>
        quantize(
          unitRows(
            Float32Array.from({ length: (i + 2) * dims }, (_, k) => Math.sin(k * 0.7 + i * 3 + w)),
            dims,
          ),
          dims,
        ),
      );
    });
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-tokens-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips states, records size and sha256, and reopens only when they match', async () => {
    const source = { collection: 'x', task: 't' };
    const built = await TokenStore.build(dir, source, docs, encode, { batch: 2 });
    const expected = await encode(docs);
    for (const [i, d] of docs.entries()) {
      const got = built.read(d.id)!;
      expect(got).toHaveLength(expected[i].length);
      got.forEach((w, j) => {
        expect(Array.from(w.values)).toEqual(Array.from(expected[i][j].values));
        expect(Array.from(w.scales)).toEqual(Array.from(expected[i][j].scales));
      });
    }
    expect(built.read('nope')).toBeUndefined();
    built.close();
    const meta = TokenStore.readMeta(dir)!;
    expect(meta.bytes).toBe(fs.statSync(path.join(dir, 'states.bin')).size);
    expect(meta.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readdirSync(dir).sort()).toEqual(['meta.json', 'states.bin']);

    const again = (await TokenStore.open(dir, source))!;
    expect(Array.from(again.read('d3')![0].values)).toEqual(Array.from(expected[3][0].values));
    again.close();
    expect(await TokenStore.open(dir, { ...source, task: 'other' })).toBeUndefined();

    // One flipped byte: the sha256 no longer matches, so the store is not served.
    const file = path.join(dir, 'states.bin');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(await TokenStore.open(dir, source)).toBeUndefined();
  });

  it('leaves no store behind when encoding fails midway', async () => {
    let calls = 0;
    const failing = async (part: { id: string }[]) => {
      if (++calls === 2) throw new Error('encoder down');
      return encode(part);
    };
    await expect(TokenStore.build(dir, { a: '1' }, docs, failing, { batch: 2 })).rejects.toThrow('encoder down');
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(await TokenStore.open(dir, { a: '1' })).toBeUndefined();
  });
});

describe('blend arithmetic (contract shared with the Elasticsearch plugin)', () => {
  it('min-max normalises per list, 0 for missing and for constant lists', () => {
    expect(minMaxNormalize([2, 4, 3])).toEqual([0, 1, 0.5]);
    expect(minMaxNormalize([5, 5])).toEqual([0, 0]);
    expect(minMaxNormalize([1, undefined, 3])).toEqual([0, 0, 1]);
  });

  it('weights the normalised stages and divides by the weights of the stages present', () => {
    const hits = [
      { rerank: 10, bm25: 1 },
      { rerank: 20, bm25: 3 },
      { rerank: 15, bm25: 2, dense: 0.9 },
    ];
    // rerank → [0, 1, .5], bm25 → [0, 1, .5]; dense is not a stage of these candidates, so its weight is ignored.
    expect(blendScores(hits, { rerank: 3, bm25: 1, dense: 5 }, ['bm25'])).toEqual([0, 1, 0.5]);
    const mixed = blendScores(
      [
        { rerank: 0, bm25: 1 },
        { rerank: 1, bm25: 0 },
      ],
      { rerank: 3, bm25: 1 },
      ['bm25'],
    );
    expect(mixed[0]).toBeCloseTo(0.25, 12);
    expect(mixed[1]).toBeCloseTo(0.75, 12);
    // Hybrid: a hit missing from the dense list gets 0 for it.
    const hybrid = blendScores(
      [
        { rerank: 1, dense: 0.5, bm25: 9 },
        { rerank: 0, bm25: 3 },
        { rerank: 0.5, dense: 0.7, bm25: 6 },
      ],
      { rerank: 1, dense: 1, bm25: 2 },
      ['dense', 'bm25'],
    );
    expect(hybrid[0]).toBeCloseTo((1 + 0 + 2 * 1) / 4, 12);
    expect(hybrid[1]).toBeCloseTo(0, 12);
    expect(hybrid[2]).toBeCloseTo((0.5 + 1 + 2 * 0.5) / 4, 12);
  });

  it('orders a window by the blend, or by raw re-ranker scores without weights', () => {
    const hits = [
      { id: 'a', score: 9, stage: 'elasticsearch' as const },
      { id: 'b', score: 1, stage: 'elasticsearch' as const },
    ];
    expect(rerankWindow(hits, [0.1, 0.2], undefined).map((h) => h.id)).toEqual(['b', 'a']);
    const blended = rerankWindow(hits, [0.1, 0.2], { rerank: 1, bm25: 2 });
    expect(blended.map((h) => [h.id, h.score])).toEqual([
      ['a', 2 / 3],
      ['b', 1 / 3],
    ]);
    expect(blended[0].scores).toEqual({ bm25: 9, rerank: 0.1 });
  });
});

describe('late-interaction manifests', () => {
  const shipped = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'models', 'tasks', 'minilm-late-interaction', 'manifest.json'), 'utf8'));

  it('the shipped one runs on the bare backbone (no graph, no tensors) and carries its blend and where it was chosen', () => {
    const m = Manifest.parse(shipped);
    expect(m.graph).toBeUndefined();
    expect(m.tensors).toEqual({});
    expect(m.blend?.weights).toEqual({ rerank: 1, bm25: 0.2 });
    expect(m.blend?.tunedOn.split).toMatch(/train|dev/);
    expect(m.blend?.tunedOn.split).not.toMatch(/test/);
  });

  it('only a late-interaction re-ranker may omit the graph', () => {
    expect(Manifest.safeParse({ ...shipped, kind: 'iaa-l' }).success).toBe(false);
    expect(Manifest.safeParse({ ...shipped, role: 'retriever' }).success).toBe(false);
    expect(Manifest.safeParse({ ...shipped, lateInteraction: { ...shipped.lateInteraction, longDocuments: 'summarise' } }).success).toBe(false);
    expect(Manifest.safeParse({ ...shipped, blend: { ...shipped.blend, weights: { rerank: -1 } } }).success).toBe(false);
  });
});
