import { Router } from 'express';
import { SearchPipeline } from '../../search/pipeline';
import { SearchRequest } from '../schemas';
import { parseBody, wrap } from '../errors';
import { BODY_LIMITS, jsonBody } from '../body';

export function searchRoutes(pipeline: SearchPipeline): Router {
  const r = Router();
  r.post(
    '/v1/search',
    jsonBody(BODY_LIMITS.search),
    wrap(async (req, res) => {
      res.json(await pipeline.search(parseBody(SearchRequest, req.body)));
    }),
  );
  return r;
}
