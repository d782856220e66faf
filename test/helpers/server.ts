import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Aside } from '../../src/aside';
import { Config, loadConfig } from '../../src/config';
import { createHttpApp, listen } from '../../src/http/server';
import { LexicalCandidates, VectorCandidates } from '../../src/search/sources/externalSources';
import { compose } from '../../src/compose';
import { demoCollectionDir } from '../../src/paths';

export interface TestServer {
  app: Aside;
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** A real Aside on a real socket (port 0), with the real default model and the demo collection. */
/** Candidate backends come from the configuration (ASIDE_ES_* / overrides) unless `external` is given. */
export async function startServer(overrides: Partial<Record<keyof Config, unknown>> = {}, external?: { lexical?: LexicalCandidates; vectors?: VectorCandidates }): Promise<TestServer> {
  const config = loadConfig({ port: 0, collection: demoCollectionDir(), workers: 1, ...overrides });
  const { app, pipeline } = await compose(config, { external });
  const server = await listen(createHttpApp(app, pipeline), '127.0.0.1', 0, config);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    server,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
      await app.close();
    },
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
