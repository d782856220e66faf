import { startServer, post, TestServer } from './helpers/server';
import { documentWindows } from '../src/rerank/lateInteraction';
import { LateInteractionSettings } from '../src/tasks/rerankSettings';
import { TaskVersion } from '../src/tasks/registry';

const LI = 'minilm-late-interaction';
const QUERY = 'Vitamin D deficiency increases cancer risk';
const DOCS = ['Low serum 25-hydroxyvitamin D is associated with higher incidence of colorectal cancer.', 'The stock market fell sharply on Monday.', 'Vitamin D receptor signalling in bone.'];

describe('late-interaction re-ranking on the real backbone, over HTTP', () => {
  let s: TestServer;
  beforeAll(async () => {
    // The default re-ranker is late interaction, so the start writes (or reuses) the demo collection's token states.
    s = await startServer({ defaultReranker: LI });
  }, 600_000); // a first run embeds the demo collection twice (dense index, token states)
  afterAll(async () => s.close());

  it('lists the task with its scoring settings', async () => {
    const tasks = (await (await fetch(`${s.url}/v1/tasks`)).json()) as any;
    expect(tasks.defaults.reranker).toBe(LI);
    const t = tasks.tasks.find((x: { id: string }) => x.id === LI);
    expect(t).toMatchObject({ role: 'reranker', kind: 'late-interaction', late_interaction: { scoring: 'maxsim-cosine', specialTokens: 'exclude', queryMaxLength: 64, documentMaxLength: 256 } });
  });

  it('/v1/rerank returns raw MaxSim scores, the relevant text first and the unrelated one last', async () => {
    const r = await post(`${s.url}/v1/rerank`, { query: QUERY, documents: DOCS });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aside-task')).toBe(LI);
    expect(r.json.map((x: { index: number }) => x.index)).toEqual([0, 2, 1]);
    // A sum over query tokens of cosines: well above 1 for a relevant text.
    expect(r.json[0].relevance_score).toBeGreaterThan(1);
    const cohere = await post(`${s.url}/v2/rerank`, { model: LI, query: QUERY, documents: DOCS });
    expect(cohere.json.results.map((x: { relevance_score: number }) => x.relevance_score)).toEqual(r.json.map((x: { relevance_score: number }) => x.relevance_score));
  });

  it('/v1/search re-ranks from stored states exactly as on-the-fly encoding scores the same texts', async () => {
    const r = await post(`${s.url}/v1/search`, { query: QUERY, k: 20, window: 20, rerank: { blend: false }, include_text: true });
    expect(r.status).toBe(200);
    expect(r.json.rerank).toMatchObject({ task: LI, blend: false });
    const hits = r.json.hits as { id: string; score: number; title: string; text: string; scores: { rerank: number; dense: number } }[];
    expect(hits).toHaveLength(20);
    hits.forEach((h) => expect(h.score).toBe(h.scores.rerank));
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    const fly = await post(`${s.url}/v1/rerank`, { query: QUERY, documents: hits.map((h) => (h.title ? `${h.title} ${h.text}` : h.text)) });
    const byIndex = new Map<number, number>(fly.json.map((x: { index: number; relevance_score: number }) => [x.index, x.relevance_score]));
    hits.forEach((h, i) => expect(Math.abs(byIndex.get(i)! - h.scores.rerank)).toBeLessThan(1e-4));
  });

  it('blends with the first stage per request, and refuses bad weights', async () => {
    const raw = await post(`${s.url}/v1/search`, { query: QUERY, k: 20, window: 20, rerank: { blend: false }, include_text: false });
    const blended = await post(`${s.url}/v1/search`, { query: QUERY, k: 20, window: 20, rerank: { blend: { rerank: 1, dense: 1 } }, include_text: false });
    expect(blended.json.rerank.blend).toEqual({ rerank: 1, dense: 1 });
    const hits = raw.json.hits as { id: string; scores: { rerank: number; dense: number } }[];
    const norm = (xs: number[]) => xs.map((x) => (x - Math.min(...xs)) / (Math.max(...xs) - Math.min(...xs)));
    const r = norm(hits.map((h) => h.scores.rerank));
    const d = norm(hits.map((h) => h.scores.dense));
    const expected = new Map(hits.map((h, i) => [h.id, (r[i] + d[i]) / 2]));
    for (const h of blended.json.hits as { id: string; score: number }[]) expect(h.score).toBeCloseTo(expected.get(h.id)!, 5);
    const bad = await post(`${s.url}/v1/search`, { query: QUERY, rerank: { blend: { rerank: -1 } } });
    expect(bad.status).toBe(400);
    expect(bad.json.error_type).toBe('validation');
    const extra = await post(`${s.url}/v1/search`, { query: QUERY, rerank: { blend: { rerank: 1, colbert: 2 } } });
    expect(extra.status).toBe(400);
  });

  it('chunks long documents into overlapping windows and lets the best window count', async () => {
    const base = s.app.registry.get(LI);
    const chunked: TaskVersion = { ...base, manifest: { ...base.manifest!, lateInteraction: LateInteractionSettings.parse({ longDocuments: 'chunk', documentMaxLength: 32, chunkOverlap: 8 }) } };
    const truncated: TaskVersion = { ...base, manifest: { ...base.manifest!, lateInteraction: LateInteractionSettings.parse({ longDocuments: 'truncate', documentMaxLength: 32 }) } };
    // Short windows for the test: the encoder's document length comes from the target, so narrow it too.
    const narrow = (t: TaskVersion): TaskVersion => ({
      ...t,
      encoder: Object.assign(Object.create(Object.getPrototypeOf(t.encoder)), t.encoder, { target: { ...t.encoder.target, maxLength: { ...t.encoder.target.maxLength, document: 32 } } }),
    });
    const filler = 'The committee met on Tuesday to discuss the budget for the coming year and the new parking rules. '.repeat(4);
    const long = `${filler}Low serum vitamin D is associated with higher incidence of colorectal cancer.`;
    const windows = documentWindows(narrow(chunked), long);
    expect(windows.length).toBeGreaterThan(2);
    windows.forEach((w) => expect(w.ids.length).toBeLessThanOrEqual(32));
    expect(documentWindows(narrow(truncated), long)).toHaveLength(1);
    const [best] = await s.app.late.score(narrow(chunked), QUERY, [{ text: long }]);
    const [first] = await s.app.late.score(narrow(truncated), QUERY, [{ text: long }]);
    expect(best).toBeGreaterThan(first + 0.5);
  });
});
