import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, post, TestServer } from './helpers/server';
import { makeTask } from './helpers/taskFactory';
import { demoCollectionDir, graphsDir, modelsDir, templatesDir } from '../src/paths';

/** Runs `fn` with ASIDE_* directories pointed elsewhere, then restores them. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

function flipByteInMiddle(file: string): void {
  const fd = fs.openSync(file, 'r+');
  const at = Math.floor(fs.fstatSync(fd).size / 2);
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 0x01;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
}

describe('operations', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-ops-'));

  describe('socket limits', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ collection: undefined, workers: 0, bodyTimeoutMs: 1500, headersTimeoutMs: 1000, maxConnections: 4 });
    });
    afterAll(async () => s.close());

    /** Opens a raw connection, sends `data`, resolves with what came back once the server closes it. */
    const rawUntilClosed = (data: string) =>
      new Promise<string>((resolve, reject) => {
        const port = Number(new URL(s.url).port);
        const sock = net.connect(port, '127.0.0.1', () => sock.write(data));
        let got = '';
        sock.on('data', (d) => (got += d));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
      });

    it('a client that never finishes its body is answered 408 and cut off', async () => {
      const got = await rawUntilClosed('POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inputs"');
      expect(got).toMatch(/^HTTP\/1.1 408/);
    });

    it('a client that never finishes its headers is cut off', async () => {
      const got = await rawUntilClosed('GET /health HTTP/1.1\r\nHost: x\r\n');
      expect(got === '' || /^HTTP\/1.1 408/.test(got)).toBe(true);
    });

    it('connections beyond the cap are refused; the server serves again once the slow ones are cut', async () => {
      const slow = Array.from({ length: 4 }, () => rawUntilClosed('GET /health HTTP/1.1\r\nHost: x\r\n'));
      await new Promise((r) => setTimeout(r, 200));
      expect(await rawUntilClosed('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe('');
      await Promise.all(slow);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    });
  });

  it('a failed index build is remembered: 503 with the cause, without building again on each search', async () => {
    const home = path.join(tmp, 'home-index');
    const collection = path.join(tmp, 'mini');
    fs.mkdirSync(path.join(collection, 'qrels'), { recursive: true });
    fs.writeFileSync(path.join(collection, 'corpus.jsonl'), fs.readFileSync(path.join(demoCollectionDir(), 'corpus.jsonl'), 'utf8').split('\n').slice(0, 40).join('\n') + '\n');
    fs.copyFileSync(path.join(demoCollectionDir(), 'queries.jsonl'), path.join(collection, 'queries.jsonl'));
    fs.copyFileSync(path.join(demoCollectionDir(), 'qrels', 'test.tsv'), path.join(collection, 'qrels', 'test.tsv'));
    const tasks = path.join(tmp, 'tasks-index');
    await makeTask(tasks, { id: 'alpha', version: 'v1', seed: 1 });
    await withEnv({ ASIDE_HOME: home, ASIDE_MODELS_DIR: modelsDir(), ASIDE_GRAPHS_DIR: graphsDir() }, async () => {
      const s = await startServer({ collection, tasksDir: tasks, workers: 0 });
      try {
        // The base index was built at start; now the index directory cannot be written any more.
        fs.rmSync(path.join(home, 'indexes'), { recursive: true });
        fs.writeFileSync(path.join(home, 'indexes'), 'not a directory');
        const rows = async () => Number(/aside_batch_rows_sum\{task="alpha"\} (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
        const first = await post(`${s.url}/v1/search`, { query: 'vitamin D', task: 'alpha' });
        expect(first.status).toBe(503);
        expect(first.json.error).toMatch(/the index of task 'alpha' \(version v1\) failed to build: .*(EEXIST|ENOTDIR)/);
        expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
        const built = await rows();
        expect(built).toBeGreaterThanOrEqual(40);
        const second = await post(`${s.url}/v1/search`, { query: 'vitamin D', task: 'alpha' });
        expect(second.status).toBe(503);
        expect(second.json.error).toBe(first.json.error.replace(/next attempt in \d+ s/, second.json.error.match(/next attempt in \d+ s/)[0]));
        expect(await rows()).toBe(built); // nothing embedded again
        expect((await post(`${s.url}/v1/search`, { query: 'vitamin D' })).status).toBe(200); // the base index still serves
      } finally {
        await s.close();
      }
    });
  });

  describe('model files are verified when served', () => {
    it('a backbone with a flipped weight byte does not start, and the message names the file', async () => {
      const models = path.join(tmp, 'models');
      fs.cpSync(path.join(modelsDir(), 'all-MiniLM-L6-v2'), path.join(models, 'all-MiniLM-L6-v2'), { recursive: true });
      const file = path.join(models, 'all-MiniLM-L6-v2', 'model.onnx');
      flipByteInMiddle(file);
      await withEnv({ ASIDE_HOME: path.join(tmp, 'home-backbone'), ASIDE_MODELS_DIR: models }, async () => {
        await expect(startServer({ collection: undefined, workers: 0 })).rejects.toThrow(new RegExp(`backbone ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not the file it should be`));
      });
    });

    it('a task graph whose bytes changed after it was committed (its templates.json records the hash) is refused', async () => {
      const tasks = path.join(tmp, 'tasks-graph');
      await makeTask(tasks, { id: 'alpha', version: 'v1', seed: 1 });
      const graphs = path.join(tmp, 'graphs');
      fs.mkdirSync(path.join(graphs, 'all-MiniLM-L6-v2'), { recursive: true });
      // A copy of the committed template and its index, served from ASIDE_GRAPHS_DIR (searched first).
      for (const f of ['iaa-l-retriever.onnx', 'templates.json']) fs.copyFileSync(path.join(templatesDir(), 'all-MiniLM-L6-v2', f), path.join(graphs, 'all-MiniLM-L6-v2', f));
      const copy = path.join(graphs, 'all-MiniLM-L6-v2', 'iaa-l-retriever.onnx');
      await withEnv({ ASIDE_HOME: path.join(tmp, 'home-graph'), ASIDE_MODELS_DIR: modelsDir(), ASIDE_GRAPHS_DIR: graphs }, async () => {
        const ok = await startServer({ collection: undefined, tasksDir: tasks, workers: 0 });
        const loaded = (await (await fetch(`${ok.url}/v1/tasks`)).json()) as any;
        await ok.close();
        expect(loaded.tasks.map((t: any) => t.id)).toContain('alpha'); // and its graph's hash is now recorded
        flipByteInMiddle(copy);
        const s = await startServer({ collection: undefined, tasksDir: tasks, workers: 0, adminApiKey: 'k' });
        try {
          const list = (await (await fetch(`${s.url}/v1/tasks`)).json()) as any;
          expect(list.tasks.map((t: any) => t.id)).not.toContain('alpha');
          const res = await fetch(`${s.url}/v1/tasks/alpha`, { method: 'PUT', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify({ path: 'alpha' }) });
          expect(res.status).toBe(400);
          expect(((await res.json()) as any).error).toMatch(/graph template .*iaa-l-retriever.onnx' has sha256 .*its index says/);
        } finally {
          await s.close();
        }
      });
    });
  });
});
