import { Router } from 'express';
import { Aside } from '../../aside';
import { RerankRequest } from '../schemas';
import { parseBody, wrap } from '../errors';
import { checkTexts, queryTask, taskHeaders } from './limits';
import { BODY_LIMITS, jsonBody } from '../body';

/**
 * Re-ranking in the shapes clients already speak. Aside's own `/v1/rerank`: top-level array of
 * {index, relevance_score}. TEI's `/rerank`: exactly TEI's `[{index, score, text?}]` (its router's `Rank`
 * type; TEI clients and Elasticsearch's hugging_face rerank parser read `score`), except that a request in
 * the older Elasticsearch hugging_face shape (`input` instead of `texts`) gets the shape that parser reads,
 * `{rerank: [{index, relevance_score, text?}]}` (fixtures in test/fixtures/es-hugging-face-rerank).
 * Cohere v2 (`/v2/rerank`: {results: [...]}, `model` names the task). Windows of hundreds of documents
 * are fine: they are batched, not refused.
 */
export function rerankRoutes(app: Aside): Router {
  const r = Router();
  const body = jsonBody(BODY_LIMITS.texts);
  const run = async (body: ReturnType<typeof RerankRequest.parse>, task?: string) => {
    const docs = (body.documents ?? body.texts ?? body.input ?? []).map((d) => (typeof d === 'string' ? { text: d } : d));
    checkTexts(
      app,
      docs.map((d) => d.text),
      app.config.maxRerankDocuments,
      'documents',
    );
    checkTexts(app, [body.query], 1, 'queries');
    const { task: answered, scores } = await app.rerank(
      body.query,
      docs.map((d) => ('title' in d && d.title !== undefined ? { title: d.title, text: d.text } : d.text)),
      body.task ?? body.model ?? task,
    );
    const ranked = scores.map((s, index) => ({ index, relevance_score: s })).sort((a, b) => b.relevance_score - a.relevance_score);
    const top = ranked.slice(0, body.top_n ?? ranked.length);
    const withDocs = top.map((x) => ({
      ...x,
      ...(docs[x.index].id !== undefined ? { id: docs[x.index].id } : {}),
      ...(body.return_documents || body.return_text ? { text: docs[x.index].text } : {}),
    }));
    return { task: answered, results: withDocs };
  };
  const tei = wrap(async (req, res) => {
    const { task, results } = await run(parseBody(RerankRequest, req.body), queryTask(req.query.task));
    taskHeaders(res, task);
    res.json(results);
  });
  r.post('/v1/rerank', body, tei);
  r.post(
    '/rerank',
    body,
    wrap(async (req, res) => {
      const parsed = parseBody(RerankRequest, req.body);
      const { task, results } = await run(parsed, queryTask(req.query.task));
      taskHeaders(res, task);
      const withText = (x: { text?: string }) => (x.text !== undefined ? { text: x.text } : {});
      if (parsed.input) res.json({ rerank: results.map((x) => ({ index: x.index, relevance_score: x.relevance_score, ...withText(x) })) });
      else res.json(results.map((x) => ({ index: x.index, score: x.relevance_score, ...withText(x) })));
    }),
  );
  r.post(
    '/v2/rerank',
    body,
    wrap(async (req, res) => {
      const { task, results } = await run(parseBody(RerankRequest, req.body));
      taskHeaders(res, task);
      res.json({
        id: `aside-${Date.now()}`,
        results: results.map((x) => ({ index: x.index, relevance_score: x.relevance_score, ...('text' in x ? { document: { text: x.text } } : {}) })),
        meta: { task: task.id, task_version: task.version },
      });
    }),
  );
  return r;
}
