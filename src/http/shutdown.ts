import http from 'node:http';
import { Aside } from '../aside';
import { log } from '../log';
import { RequestLifecycle } from './requestLifecycle';

/**
 * SIGTERM: stop taking requests (new ones get 503 and `Connection: close`, `/ready` turns 503),
 * let the ones in flight finish for up to `graceMs`, then close the backend. Returns whether every
 * request finished in time.
 */
export async function shutDownGracefully(server: http.Server, app: Aside, lifecycle: RequestLifecycle, graceMs: number): Promise<boolean> {
  lifecycle.startDraining();
  log.info({ inflight: lifecycle.inflight, graceMs }, 'shutting down: draining in-flight requests');
  server.close();
  server.closeIdleConnections();
  const finished = await lifecycle.whenIdle(graceMs);
  if (!finished) log.warn({ inflight: lifecycle.inflight }, 'shutdown grace period over; closing with requests still in flight');
  server.closeAllConnections();
  await app.close();
  return finished;
}
