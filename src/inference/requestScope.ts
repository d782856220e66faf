import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the scheduler needs to know about the request a row belongs to: whether its client is still
 * waiting. The HTTP layer aborts the signal when the client disconnects or the request's deadline
 * passes (the abort reason is the error to answer with); rows of an aborted request are dropped
 * before they run. Carried implicitly (AsyncLocalStorage), so the layers between the route and the
 * scheduler (application, registry, encoder, query cache) need no extra parameter.
 */
export interface RequestScope {
  signal: AbortSignal;
  /** Epoch ms after which the answer is useless; undefined = no deadline. */
  deadline?: number;
}

const storage = new AsyncLocalStorage<RequestScope>();

export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}
