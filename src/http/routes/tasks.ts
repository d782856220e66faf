import crypto from 'node:crypto';
import { RequestHandler, Router } from 'express';
import { Aside } from '../../aside';
import { AsideError } from '../../errors';
import { TaskVersion } from '../../tasks/registry';
import { PutTaskRequest } from '../schemas';
import { parseBody, wrap } from '../errors';

export function describeTask(t: TaskVersion) {
  return { id: t.id, version: t.version, role: t.role, kind: t.kind, loaded_at: t.loadedAt, inflight: t.inflight, budget: t.manifest?.budget, metrics: t.manifest?.metrics };
}

/** API-key check in constant time; the admin API is off entirely when no key is configured. */
function requireAdmin(app: Aside): RequestHandler {
  const key = app.config.adminApiKey;
  return (req, _res, next) => {
    if (!key) return next(new AsideError('not_found', 'the admin API is disabled: set ASIDE_ADMIN_API_KEY to enable it'));
    const given = (req.header('authorization') ?? '').replace(/^(Bearer|ApiKey)\s+/i, '') || req.header('x-api-key') || '';
    const a = crypto.createHash('sha256').update(given).digest();
    const b = crypto.createHash('sha256').update(key).digest();
    if (!given || !crypto.timingSafeEqual(a, b)) return next(new AsideError('unauthorized', 'missing or wrong API key'));
    next();
  };
}

export function taskRoutes(app: Aside): Router {
  const r = Router();
  r.get('/v1/tasks', (_req, res) => {
    res.json({ tasks: app.registry.list().map(describeTask), defaults: { retriever: app.registry.defaultId('retriever'), reranker: app.registry.defaultId('reranker') } });
  });
  const admin = requireAdmin(app);
  r.put(
    '/v1/tasks/:id',
    admin,
    wrap(async (req, res) => {
      const body = parseBody(PutTaskRequest, req.body);
      const t = await app.registry.load(body.path).catch((err) => {
        throw err instanceof AsideError ? err : new AsideError('validation', `task load failed: ${(err as Error).message}`);
      });
      if (t.id !== req.params.id) {
        // The directory held another task: it is loaded under its own id; say so rather than rename.
        throw new AsideError('conflict', `the manifest at '${body.path}' is task '${t.id}', not '${req.params.id}' (it was loaded as '${t.id}')`);
      }
      app.metrics.tasksLoaded.set(app.registry.list().length);
      res.json(describeTask(t));
    }),
  );
  r.delete(
    '/v1/tasks/:id',
    admin,
    wrap(async (req, res) => {
      const t = await app.registry.unload(String(req.params.id));
      app.metrics.tasksLoaded.set(app.registry.list().length);
      res.json({ unloaded: describeTask(t) });
    }),
  );
  return r;
}
