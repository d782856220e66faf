import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer, post, TestServer } from './helpers/server';
import { makeTask } from './helpers/taskFactory';
import { runSwapLoad } from '../src/loadtest/swapLoad';

const KEY = 'swap-key';

describe('hot-swap under load', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-swap-'));
  let s: TestServer;
  beforeAll(async () => {
    for (const v of ['v1', 'v2', 'v3']) await makeTask(path.join(root, v), { id: 'alpha', version: v, seed: v.charCodeAt(1) });
    s = await startServer({ tasksDir: root, adminApiKey: KEY, collection: undefined, workers: 2 });
  });
  afterAll(async () => s.close());

  it('16 clients for 10 s while the task is replaced repeatedly: no failure, every answer matches its version', async () => {
    const r = await runSwapLoad({ url: s.url, apiKey: KEY, task: 'alpha', versionPaths: ['v1/alpha', 'v2/alpha', 'v3/alpha'], clients: 16, seconds: 10 });
    expect(r.failed).toBe(0);
    expect(r.inconsistent).toBe(0);
    expect(r.swaps).toBeGreaterThanOrEqual(10);
    expect(r.versions_seen).toEqual(['v1', 'v2', 'v3']);
    expect(r.requests).toBeGreaterThan(100);
  }, 60_000);

  it('keeps the event loop responsive while the workers encode', async () => {
    const docs = Array.from({ length: 96 }, (_, i) => `document ${i} ` + 'about the regulation of gene expression in mammalian cells '.repeat(12));
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t0 = Date.now();
    // enough encoding work to dwarf any stall, however fast the machine (one request takes ~1 s here)
    for (let i = 0; i < 20 && Date.now() - t0 < 1000; i++) {
      const r = await post(`${s.url}/v1/embed`, { inputs: docs.map((d) => `${i} ${d}`) });
      expect(r.status).toBe(200);
    }
    const took = Date.now() - t0;
    h.disable();
    // Inference happened elsewhere: no single stall of the loop comes near the time spent encoding.
    expect(h.max / 1e6).toBeLessThan(Math.max(150, took / 4));
  });
});
