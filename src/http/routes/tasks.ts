import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RequestHandler, Router } from 'express';
import { Aside } from '../../aside';
import { AsideError } from '../../errors';
import { TaskVersion } from '../../tasks/registry';
import { PutTaskRequest } from '../schemas';
import { parseBody, wrap } from '../errors';
import { BODY_LIMITS, jsonBody, zipBody } from '../body';
import { unpackTaskArchive } from '../../tasks/uploadArchive';

export function describeTask(t: TaskVersion) {
  const m = t.manifest;
  return {
    id: t.id,
    version: t.version,
    role: t.role,
    kind: t.kind,
    loaded_at: t.loadedAt,
    inflight: t.inflight,
    budget: m?.budget,
    metrics: m?.metrics,
    ...(m?.blend ? { blend: m.blend } : {}),
    ...(m?.lateInteraction ? { late_interaction: m.lateInteraction } : {}),
  };
}

/**
 * The one admin scheme: `Authorization: Bearer <key>`, compared in constant time. The admin API is
 * off entirely when no key is configured.
 */
function requireAdmin(app: Aside): RequestHandler {
  const key = app.config.adminApiKey;
  return (req, _res, next) => {
    if (!key) return next(new AsideError('not_found', 'the admin API is disabled: set ASIDE_ADMIN_API_KEY to enable it'));
    const m = /^Bearer (.+)$/.exec(req.header('authorization') ?? '');
    const given = m?.[1] ?? '';
    const a = crypto.createHash('sha256').update(given).digest();
    const b = crypto.createHash('sha256').update(key).digest();
    if (!given || !crypto.timingSafeEqual(a, b)) return next(new AsideError('unauthorized', 'missing or wrong API key (send Authorization: Bearer <key>)'));
    next();
  };
}

export function taskRoutes(app: Aside): Router {
  const r = Router();
  r.get('/v1/tasks', (_req, res) => {
    res.json({ tasks: app.registry.list().map(describeTask), defaults: { retriever: app.registry.defaultId('retriever'), reranker: app.registry.defaultId('reranker') }, restart: app.restartNote() });
  });
  const admin = requireAdmin(app);
  r.put(
    '/v1/tasks/:id',
    admin,
    zipBody(BODY_LIMITS.taskArchive),
    jsonBody(BODY_LIMITS.taskPath),
    wrap(async (req, res) => {
      // Either {path} of a task directory under the models root, or a zip archive as the body.
      const id = String(req.params.id);
      let unpacked: string | undefined;
      const source = Buffer.isBuffer(req.body) ? async () => (unpacked = await unpackTaskArchive(app.registry.modelsRoot, id, req.body)) : parseBody(PutTaskRequest, req.body).path;
      const t = await app.registry.load(source, id).catch(async (err) => {
        if (unpacked) await fs.promises.rm(path.join(app.registry.modelsRoot, unpacked), { recursive: true, force: true });
        throw err instanceof AsideError ? err : new AsideError('validation', `task load failed: ${(err as Error).message}`);
      });
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
