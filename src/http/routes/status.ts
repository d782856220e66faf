import { Router } from 'express';
import { Aside } from '../../aside';

export function statusRoutes(app: Aside): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/info', async (_req, res) => {
    const corpora = await Promise.all(app.registry.list().map(async (t) => ({ task: t.id, version: t.version, size: await app.indexSize(t) })));
    res.json({
      name: 'aside',
      model: app.spec.id,
      dims: app.base.info.dims,
      pooling: app.spec.pooling,
      max_length: app.base.info.maxLength,
      provider: app.base.info.provider,
      backend: app.backend.name,
      collection: app.collection ? { name: app.collection.name, documents: app.collection.docs.length } : null,
      indexes: corpora.filter((c) => c.size !== undefined),
      tasks: app.registry.list().map((t) => ({ id: t.id, version: t.version, role: t.role, kind: t.kind })),
    });
  });
  r.get('/metrics', async (_req, res) => {
    for (const t of app.registry.list()) app.metrics.queueDepth.set({ task: t.id }, t.encoder.queueDepth);
    res.setHeader('Content-Type', app.metrics.registry.contentType);
    res.send(await app.metrics.registry.metrics());
  });
  return r;
}
