import http from 'node:http';
import express from 'express';
import { Aside } from '../aside';
import { SearchPipeline } from '../search/pipeline';
import { AsideError } from '../errors';
import { errorHandler } from './errors';
import { embedRoutes } from './routes/embed';
import { rerankRoutes } from './routes/rerank';
import { searchRoutes } from './routes/search';
import { taskRoutes } from './routes/tasks';
import { statusRoutes } from './routes/status';
import { log } from '../log';
import { RequestLifecycle } from './requestLifecycle';
import { readyRoutes } from './routes/ready';
import { answerClientErrors } from './clientErrors';

/** Routes are thin: validate, call the application, shape the answer. Errors map in one place. */
export function createHttpApp(app: Aside, pipeline: SearchPipeline, lifecycle = new RequestLifecycle(app.config.requestTimeoutMs)): express.Express {
  const web = express();
  web.disable('x-powered-by');
  web.use((req, res, next) => {
    const end = app.metrics.latency.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ?? 'unmatched';
      const task = String(res.getHeader('x-aside-task') ?? '');
      app.metrics.requests.inc({ route, task, status: String(res.statusCode) });
      end({ route, task });
    });
    next();
  });
  web.use(lifecycle.middleware());
  web.use(statusRoutes(app));
  web.use(readyRoutes(app, lifecycle));
  web.use(embedRoutes(app));
  web.use(rerankRoutes(app));
  web.use(searchRoutes(pipeline));
  web.use(taskRoutes(app));
  web.use((req, _res, next) => next(new AsideError('not_found', `no route ${req.method} ${req.path}`)));
  web.use(errorHandler);
  return web;
}

/** Socket limits: a client that sends nothing, or its body slowly, is cut off; connections are capped. */
export interface SocketLimits {
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export async function listen(web: express.Express, host: string, port: number, limits: SocketLimits): Promise<http.Server> {
  const server = http.createServer(
    {
      requestTimeout: limits.bodyTimeoutMs,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the timeouts above are enforced (Node's default is 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    web,
  );
  server.maxConnections = limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.listen(port, host, () => {
      const addr = server.address();
      log.info({ url: typeof addr === 'object' && addr ? `http://${host}:${addr.port}` : addr }, 'listening');
      resolve(server);
    });
    server.on('error', reject);
    answerClientErrors(server);
  });
}
