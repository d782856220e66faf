/**
 * `npm run loadtest:swap [-- --seconds N --clients C]`: starts a server on loopback with three
 * versions of a task, drives C clients for N seconds while replacing the task, and prints one JSON
 * line {requests, failed, swaps, p99_ms, ...}. Weights are seeded random modules on the real graph.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config';
import { createHttpApp, listen } from '../src/http/server';
import { compose } from '../src/compose';
import { runSwapLoad } from '../src/loadtest/swapLoad';
import { makeTask } from '../test/helpers/taskFactory';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '16' }, workers: { type: 'string', default: '2' } } });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-loadtest-'));
  for (const v of ['v1', 'v2', 'v3']) await makeTask(path.join(root, v), { id: 'alpha', version: v, seed: v.charCodeAt(1) });
  const key = 'loadtest';
  const config = loadConfig({ port: 0, tasksDir: root, adminApiKey: key, workers: values.workers });
  const { app, pipeline } = await compose(config);
  const server = await listen(createHttpApp(app, pipeline), '127.0.0.1', 0, config);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const r = await runSwapLoad({ url, apiKey: key, task: 'alpha', versionPaths: ['v1/alpha', 'v2/alpha', 'v3/alpha'], clients: Number(values.clients), seconds: Number(values.seconds) });
    process.stdout.write(JSON.stringify(r) + '\n');
    if (r.failed || r.inconsistent) process.exitCode = 1;
  } finally {
    server.closeAllConnections();
    server.close();
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
