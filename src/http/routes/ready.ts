import { Router } from 'express';
import { Aside } from '../../aside';
import { BASE_TASK } from '../../tasks/registry';
import { schedulerFor } from '../../inference/scheduler';
import { DEFAULT_LIMITS } from '../../inference/batchQueue';
import { ReadinessCheck, RequestLifecycle } from '../requestLifecycle';

/** The default retriever's index: built, building, or missing (only when a collection is served). */
async function indexCheck(app: Aside): Promise<ReadinessCheck> {
  if (!app.collection) return { ok: true, state: 'no collection' };
  const task = app.registry.get(app.registry.defaultId('retriever') ?? BASE_TASK);
  const size = await Promise.race([app.indexSize(task), new Promise<'building'>((r) => setImmediate(() => r('building')))]);
  if (size === 'building') return { ok: false, state: 'building', task: task.id };
  if (size === undefined) return { ok: false, state: 'not built', task: task.id };
  return { ok: true, state: 'built', task: task.id, documents: size };
}

/**
 * `/ready`: can this server take work now? (Kubernetes readiness, load-balancer health checks.)
 * 200 when models are loaded, the default index is built, the scheduler is below its admission limit
 * and the server is not shutting down; else 503. Elasticsearch's circuit is reported but does not
 * gate readiness: every replica shares the cluster, and dense search still works without it.
 * `/health` stays liveness: the process answers.
 */
export function readyRoutes(app: Aside, lifecycle: RequestLifecycle): Router {
  const r = Router();
  r.get('/ready', async (_req, res) => {
    const s = schedulerFor(app.backend, DEFAULT_LIMITS).snapshot();
    const checks: Record<string, ReadinessCheck> = {
      models: { ok: true, tasks: app.registry.knownIds().length },
      index: await indexCheck(app),
      capacity: { ok: !s.saturated, queued_rows: s.queuedRows, inflight_rows: s.inflightRows, limit_rows: s.maxQueue },
      shutdown: { ok: !lifecycle.isDraining, draining: lifecycle.isDraining, inflight_requests: lifecycle.inflight },
      ...lifecycle.extraChecks(),
    };
    const ready = Object.values(checks).every((c) => c.ok || c.gating === false);
    res.status(ready ? 200 : 503).json({ ready, checks });
  });
  return r;
}
