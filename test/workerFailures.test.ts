import { post, startServer, TestServer } from './helpers/server';
import { schedulerFor } from '../src/inference/scheduler';
import { DEFAULT_LIMITS } from '../src/inference/batchQueue';
import { WorkerPoolBackend } from '../src/inference/workerPool';
import { InProcessBackend } from '../src/inference/backend';
import { Encoder, openBaseEncoder } from '../src/inference/encoder';
import { resolveModel } from '../src/models/catalog';
import { defaultSessionOptions } from '../src/inference/session';

const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-5);

describe('a worker that dies', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ collection: undefined, tasksDir: undefined, workers: 1, maxBatch: 8 });
  }, 180_000);
  afterAll(() => s?.close());

  it('fails its pending work at once with 503, and a replacement with every graph and module serves the same answers', async () => {
    const pool = s.app.backend as WorkerPoolBackend;
    const retriever = s.app.registry.list().find((t) => t.role === 'retriever' && t.id !== 'base')!;
    const reranker = s.app.registry.list().find((t) => t.role === 'reranker')!;
    const embed = (task: string) => post(`${s.url}/v1/embed`, { inputs: ['protein folding in cells', 'a second text'], task });
    const rerank = () => post(`${s.url}/v1/rerank`, { query: 'protein folding', texts: ['proteins fold in cells', 'stock markets'], task: reranker.id });
    const before = { base: (await embed('base')).json, task: (await embed(retriever.id)).json, rerank: (await rerank()).json };

    const texts = Array.from({ length: 64 }, (_, i) => `text ${i} ` + 'long evidence about biology '.repeat(40));
    // Killed the moment its next batch is handed over, before the thread starts on it: terminating a
    // thread inside onnxruntime's run() aborts the whole process (a native error), so a kill mid-run
    // cannot be survived by any pool; one between runs, with work routed to it, can.
    const scheduler = schedulerFor(pool, DEFAULT_LIMITS);
    const events = scheduler.events;
    let killed: Promise<number> | undefined;
    scheduler.events = {
      ...events,
      batch: (...a) => {
        events.batch?.(...a);
        killed ??= pool.workers[0].terminate();
      },
    };
    const failed = await post(`${s.url}/v1/embed`, { inputs: texts });
    scheduler.events = events;
    await killed;
    expect(failed.status).toBe(503);
    expect(failed.json).toMatchObject({ error_type: 'unavailable', error: expect.stringMatching(/inference worker stopped/) });
    expect(pool.replacements).toBe(1);

    const after = { base: (await embed('base')).json, task: (await embed(retriever.id)).json, rerank: (await rerank()).json };
    expect(after.base.every((v: number[], i: number) => close(v, before.base[i]))).toBe(true);
    expect(after.task.every((v: number[], i: number) => close(v, before.task[i]))).toBe(true);
    expect(after.rerank.map((r: { index: number }) => r.index)).toEqual(before.rerank.map((r: { index: number }) => r.index));
    expect(
      close(
        after.rerank.map((r: { relevance_score: number }) => r.relevance_score),
        before.rerank.map((r: { relevance_score: number }) => r.relevance_score),
      ),
    ).toBe(true);
    expect((await post(`${s.url}/v1/embed`, { inputs: texts.slice(0, 16) })).status).toBe(200);
  });
});

describe('one bad row in a batch', () => {
  it('fails only its own request: the batch is retried row by row', async () => {
    const backend = new InProcessBackend();
    const base = await openBaseEncoder(resolveModel(), backend, defaultSessionOptions());
    // A target that lets an input past the backbone's 512 positions: the forward pass fails on it.
    const unsafe = new Encoder(backend, base.tokenizer, { ...base.target, maxLength: { query: 2048, document: 2048, pair: 2048 } }, base.info);
    const short = ['first query', 'protein folding', 'cell biology', 'gene expression', 'a fifth text', 'the sixth', 'seven', 'eight'];
    const alone = await Promise.all(short.map((t) => base.embed([t], 'document')));
    const results = await Promise.allSettled([...short.map((t) => unsafe.embed([t], 'document')), unsafe.embed(['ok text', 'word '.repeat(900)], 'document')]);
    await backend.close();
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected).toHaveLength(1);
    expect(results[short.length].status).toBe('rejected');
    expect(rejected[0].reason).toMatchObject({ status: 500, message: expect.stringMatching(/^input 1 could not be encoded/) });
    short.forEach((_, i) => expect(close(Array.from((results[i] as PromiseFulfilledResult<Float32Array[]>).value[0]), Array.from(alone[i][0]))).toBe(true));
  });
});
