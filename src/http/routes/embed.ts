import { Router } from 'express';
import { Aside } from '../../aside';
import { AsideError } from '../../errors';
import { EmbedRequest, OpenAIEmbeddingsRequest } from '../schemas';
import { parseBody, wrap } from '../errors';
import { checkTexts, queryTask, taskHeaders } from './limits';
import { BODY_LIMITS, jsonBody } from '../body';

/**
 * Embeddings in three dialects: Aside/TEI (`/v1/embed`, `/embed`: `{inputs}` → `[[...]]`, which is
 * also what Elasticsearch's hugging_face service expects; an input may also be a titled document
 * `{title, text}`, joined by the task's text contract) and OpenAI (`/v1/embeddings`).
 */
export function embedRoutes(app: Aside): Router {
  const r = Router();
  const body = jsonBody(BODY_LIMITS.texts);
  const tei = wrap(async (req, res) => {
    const body = parseBody(EmbedRequest, req.body);
    const texts = Array.isArray(body.inputs) ? body.inputs : [body.inputs];
    checkTexts(
      app,
      texts.map((t) => (typeof t === 'string' ? t : `${t.title ?? ''} ${t.text}`)),
    );
    const { task, vectors } = await app.embed(texts, body.input_type, body.task ?? queryTask(req.query.task));
    taskHeaders(res, task);
    res.json(vectors.map((v) => Array.from(v)));
  });
  r.post('/v1/embed', body, tei);
  r.post('/embed', body, tei);

  r.post(
    '/v1/embeddings',
    body,
    wrap(async (req, res) => {
      const body = parseBody(OpenAIEmbeddingsRequest, req.body);
      if (body.dimensions !== undefined && body.dimensions !== app.base.info.dims) throw new AsideError('validation', `dimensions must be ${app.base.info.dims} (Aside does not truncate embeddings)`);
      const texts = Array.isArray(body.input) ? body.input : [body.input];
      checkTexts(app, texts);
      // `model` names the Aside task, so OpenAI clients pick tasks the way they pick models.
      const { task, vectors } = await app.embed(texts, body.input_type, body.model);
      taskHeaders(res, task);
      const tokens = texts.reduce((s, t) => s + task.encoder.tokenize([t], body.input_type)[0].ids.length, 0);
      res.json({
        object: 'list',
        model: task.id,
        data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
        task_version: task.version,
      });
    }),
  );
  return r;
}
