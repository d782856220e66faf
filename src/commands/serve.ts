import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createHttpApp, listen } from '../http/server';
import { demoCollectionDir } from '../paths';
import { fetchModels } from '../models/fetch';
import { loadCatalog } from '../models/catalog';
import { compose } from '../compose';
import { log } from '../log';
import { RequestLifecycle } from '../http/requestLifecycle';
import { shutDownGracefully } from '../http/shutdown';

/** `serve`: run the HTTP server. `start`: the embedded default — fetch the model, index the demo collection, serve. */
export function serveCommand(embeddedDefault: boolean) {
  return async (args: string[]): Promise<void> => {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        model: { type: 'string' },
        collection: { type: 'string' },
        'tasks-dir': { type: 'string' },
        workers: { type: 'string' },
      },
    });
    const config = loadConfig({
      port: values.port,
      host: values.host,
      model: values.model,
      collection: values.collection,
      tasksDir: values['tasks-dir'],
      workers: values.workers,
    });
    // The embedded default serves the demo collection unless one is configured.
    if (embeddedDefault) config.collection ??= demoCollectionDir();
    if (embeddedDefault) {
      const id = config.model ?? loadCatalog().default;
      if (!id.includes('/')) await fetchModels([id]);
    }
    const { app, pipeline, elasticsearch, elasticsearchCircuit: circuit } = await compose(config);
    const lifecycle = new RequestLifecycle(config.requestTimeoutMs);
    if (circuit) lifecycle.addCheck('elasticsearch', () => ({ ok: circuit.state !== 'open', gating: false, ...circuit.describe() }));
    const server = await listen(createHttpApp(app, pipeline, lifecycle), config.host, config.port, config);
    log.info(
      {
        model: app.spec.id,
        provider: app.base.info.provider,
        backend: app.backend.name,
        tasks: app.registry.knownIds(),
        collection: app.collection?.name,
        elasticsearch: elasticsearch ?? 'not configured',
      },
      'aside ready',
    );
    const stop = async () => {
      const finished = await shutDownGracefully(server, app, lifecycle, config.shutdownGraceMs);
      process.exit(finished ? 0 : 1);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  };
}
