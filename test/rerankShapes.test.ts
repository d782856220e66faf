/**
 * The rerank request/response shapes that TEI clients and Elasticsearch's hugging_face service use,
 * recorded as fixtures (test/fixtures/es-hugging-face-rerank, each naming where it comes from), posted
 * to a real Aside's TEI route `/rerank`: every answer must pass the checks its client's parser makes.
 * The node the other tests run has no `_inference` API, so these fixtures are the check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { post, startServer, TestServer } from './helpers/server';

interface Fixture {
  shape: string;
  request: Record<string, unknown> & { query: string };
  response_example: unknown;
  parser: { top_level: 'array' | 'object:rerank'; score_field: string[]; allowed_fields: string[]; text_when: string; top_n?: number };
}

const dir = path.join(__dirname, 'fixtures', 'es-hugging-face-rerank');
const fixtures = fs.readdirSync(dir).map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Fixture] as const);

/** What the fixture's parser requires of a response; returns the problems found (none = accepted). */
function parserProblems(fx: Fixture, body: any, nDocs: number): string[] {
  const p = fx.parser;
  const problems: string[] = [];
  const list = p.top_level === 'array' ? body : body?.rerank;
  if (!Array.isArray(list)) return [`expected ${p.top_level}, got ${JSON.stringify(body).slice(0, 80)}`];
  for (const item of list) {
    for (const k of Object.keys(item)) if (!p.allowed_fields.includes(k)) problems.push(`unknown field [${k}]`);
    if (!Number.isInteger(item.index) || item.index < 0 || item.index >= nDocs) problems.push(`bad index ${item.index}`);
    if (!p.score_field.some((f) => typeof item[f] === 'number')) problems.push(`Failed to find required field [${p.score_field.join('|')}]`);
    if (fx.request[p.text_when] === true && typeof item.text !== 'string') problems.push('missing text');
  }
  if (p.top_n !== undefined && list.length !== p.top_n) problems.push(`expected top ${p.top_n}, got ${list.length}`);
  return problems;
}

const docsOf = (r: Fixture['request']) => (r.texts ?? r.input ?? r.documents) as string[];

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
}, 120000);
afterAll(async () => {
  await s?.close();
});

test('there are fixtures for the three shapes', () => expect(fixtures.map(([f]) => f).sort()).toEqual(['documents-lenient.json', 'legacy-input.json', 'tei-texts.json']));

describe.each(fixtures)('%s', (_name, fx) => {
  test("the recorded example passes the parser's checks (the checker itself is sound)", () => {
    expect(parserProblems(fx, fx.response_example, docsOf(fx.request).length)).toEqual([]);
  });

  test('Aside /rerank answers in the shape that client reads, best first, texts matching their index', async () => {
    const res = await post(`${s.url}/rerank`, fx.request);
    expect(res.status).toBe(200);
    const docs = docsOf(fx.request);
    expect(parserProblems(fx, res.json, docs.length)).toEqual([]);
    const list: any[] = Array.isArray(res.json) ? res.json : res.json.rerank;
    const scores = list.map((x) => x.score ?? x.relevance_score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const x of list) if (x.text !== undefined) expect(x.text).toBe(docs[x.index]);
    // The semantic ordering is real: the deep-learning passage beats the one about Paris.
    const rank = (i: number) => list.findIndex((x) => x.index === i);
    expect(rank(0)).toBeLessThan(rank(1) === -1 ? Infinity : rank(1));
  }, 60000);
});

test('Aside /v1/rerank keeps its own shape {index, relevance_score}', async () => {
  const res = await post(`${s.url}/v1/rerank`, { query: 'q', documents: ['a', 'b'] });
  expect(res.status).toBe(200);
  expect(Object.keys(res.json[0]).sort()).toEqual(['index', 'relevance_score']);
});
