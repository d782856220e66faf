import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTask } from './helpers/taskFactory';
import { post, startServer, TestServer } from './helpers/server';
import { maxAbsDiff } from './helpers/fixtures';

/**
 * Three tasks of one kind and shape behind one server with a single worker: requests sent together
 * queue behind the first batch, and the next forward passes mix tasks. Every answer must equal the
 * same request sent alone (which runs in a batch of its own task).
 */
describe('serving: mixed-task batches through HTTP', () => {
  let s: TestServer;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-mixed-'));
  const tasks = ['alpha', 'beta', 'gamma'];
  const texts = (t: string, i: number) => [`query ${i} for ${t}`, `a somewhat longer query number ${i} about vitamin D and ${t}`];

  beforeAll(async () => {
    for (const [k, id] of tasks.entries()) await makeTask(root, { id, version: '1', seed: 11 + k, size: 4 });
    s = await startServer({ tasksDir: root, collection: undefined, workers: 1, cacheSize: 0, mixedBatches: 'on' });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const mixedPasses = async () => Number(/aside_scheduler_batches_total\{mixed="true"\} (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
  const embed = (task: string, inputs: string[]) => post(`${s.url}/v1/embed`, { task, inputs, input_type: 'query' });

  it('mixes tasks in one forward pass and answers each row as its task alone would', async () => {
    const before = await mixedPasses();
    // Two one-text requests per task: each task's queue holds fewer rows than a mixed batch takes (8),
    // so whichever task's turn comes first is topped up with the others' rows.
    const requests = tasks.flatMap((t) => [0, 1].map((i) => ({ task: t, inputs: texts(t, i).slice(i, i + 1) })));
    // A long document request holds the only worker first, so the queries queue up meanwhile and the
    // next batches are formed from rows of several tasks, however slowly the requests arrive.
    const hold = post(`${s.url}/v1/embed`, {
      task: 'alpha',
      input_type: 'document',
      inputs: Array.from({ length: 48 }, (_, i) => `document ${i} ` + 'on the regulation of gene expression '.repeat(30)),
    });
    await new Promise((r) => setTimeout(r, 50));
    const together = await Promise.all(requests.map((r) => embed(r.task, r.inputs)));
    expect((await hold).status).toBe(200);
    expect(together.map((r) => r.status)).toEqual(requests.map(() => 200));
    expect(await mixedPasses()).toBeGreaterThan(before);
    for (const [i, r] of requests.entries()) {
      const alone = await embed(r.task, r.inputs);
      for (const [j, v] of (alone.json as number[][]).entries()) expect(maxAbsDiff(together[i].json[j], v)).toBeLessThanOrEqual(1e-5);
    }
    // Different tasks give different vectors for the same text: a row answered with another task's module would show.
    const [a, b] = await Promise.all([embed('alpha', ['same text']), embed('beta', ['same text'])]);
    expect(maxAbsDiff(a.json[0], b.json[0])).toBeGreaterThan(1e-3);
  }, 60_000);
});
