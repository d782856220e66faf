import { AsideError } from '../src/errors';
import { mixesTasks, Scheduler } from '../src/inference/scheduler';
import { BatchLimits, MixTarget, RowQueue } from '../src/inference/batchQueue';
import { runInScope } from '../src/inference/requestScope';
import { Encoded, TokenBatch } from '../src/text/tokenizer';

/** A row of `len` tokens whose first id tags it, so a test can see which rows ran together. */
const row = (tag: number, len = 4): Encoded => ({ ids: [tag, ...new Array(len - 1).fill(1)], typeIds: new Array(len).fill(0) });
const tagsOf = (b: TokenBatch) => Array.from({ length: b.batch }, (_, i) => Number(b.inputIds[i * b.seqLen]));

/**
 * A backend whose forward passes finish when the test says so: every call is recorded, and each
 * answers one vector [tag] per row. Batch formation, admission, cancellation and fairness are then
 * observable without any timing.
 */
class HeldBackend {
  calls: { queue: string; tags: number[]; modules?: string[]; finish: (err?: Error) => void }[] = [];
  fail?: (tags: number[]) => Error | undefined;
  runner(queue: string, modules?: string[]) {
    return (b: TokenBatch) =>
      new Promise<Float32Array[]>((resolve, reject) => {
        const tags = tagsOf(b);
        this.calls.push({ queue, tags, modules, finish: (err) => (err ? reject(err) : resolve(tags.map((t) => Float32Array.of(t)))) });
      });
  }
  /** A queue's mix target in `group`: its mixed batches are recorded with each row's module. */
  mix(group: string, module: string): MixTarget {
    return { group, module, run: (b, modules) => this.runner(`mixed:${group}`, modules)(b) };
  }
  /** Finishes the oldest unfinished call (or fails it with what `fail` says). */
  async next(): Promise<number[]> {
    const c = this.calls.find((x) => !(x as { done?: boolean }).done)!;
    (c as { done?: boolean }).done = true;
    c.finish(this.fail?.(c.tags));
    await new Promise((r) => setImmediate(r));
    return c.tags;
  }
}

const limits = (over: Partial<BatchLimits> = {}): BatchLimits => ({ maxBatch: 4, maxBatchTokens: 1000, maxWaitMs: 0, maxQueue: 100, ...over });

function setup(over: Partial<BatchLimits> = {}, slots = 1) {
  const backend = new HeldBackend();
  const s = new Scheduler(limits(over), slots);
  const queue = (key: string, group?: string) => s.queue(key, backend.runner(key), undefined, group ? backend.mix(group, `module-${key}`) : undefined);
  const submit = (q: RowQueue<never> | ReturnType<typeof queue>, rows: Encoded[], signal?: AbortSignal, deadline?: number) =>
    runInScope({ signal: signal ?? new AbortController().signal, deadline }, () => s.submit(s.admit(rows.length), q, rows));
  return { backend, s, queue, submit };
}

describe('scheduler: batch formation', () => {
  it('runs a lone request at once, without waiting for company', () => {
    const { backend, queue, submit } = setup();
    void submit(queue('a'), [row(7)]);
    expect(backend.calls.map((c) => c.tags)).toEqual([[7]]);
  });

  it('forms the next batch only when a slot frees, from every row that queued meanwhile, up to maxBatch', async () => {
    const { backend, s, queue, submit } = setup({ maxBatch: 4 });
    const q = queue('a');
    const first = submit(q, [row(1)]);
    const rest = [2, 3, 4, 5, 6].map((t) => submit(q, [row(t)]));
    expect(backend.calls).toHaveLength(1);
    expect(s.snapshot()).toMatchObject({ queuedRows: 5, inflightRows: 1, inflightBatches: 1 });
    await backend.next();
    expect(backend.calls.map((c) => c.tags)).toEqual([[1], [2, 3, 4, 5]]);
    await backend.next();
    await backend.next();
    expect(backend.calls.map((c) => c.tags)).toEqual([[1], [2, 3, 4, 5], [6]]);
    expect((await first)[0][0]).toBe(1);
    expect((await Promise.all(rest)).map((r) => r[0][0])).toEqual([2, 3, 4, 5, 6]);
    expect(s.snapshot()).toMatchObject({ queuedRows: 0, inflightRows: 0, inflightBatches: 0 });
  });

  it('keeps padded tokens (rows × longest row) under maxBatchTokens', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 32, maxBatchTokens: 100 });
    const q = queue('a');
    void submit(q, [row(1)]);
    void submit(q, [row(2, 30), row(3, 30), row(4, 30), row(5, 30), row(6, 10)]);
    await backend.next();
    // Sorted by length within the request: 10, 30, 30 → 3 × 30 = 90 ≤ 100; a fourth row would pad to 120.
    expect(backend.calls[1].tags).toEqual([6, 2, 3]);
    await backend.next();
    expect(backend.calls[2].tags).toEqual([4, 5]);
  });

  it('splits a lone request between the free workers, so it uses every core', () => {
    const { backend, queue, submit } = setup({ maxBatch: 32 }, 2);
    void submit(
      queue('a'),
      [1, 2, 3, 4, 5, 6, 7].map((t) => row(t)),
    );
    expect(backend.calls.map((c) => c.tags.length)).toEqual([4, 3]);
  });

  it('never has more batches outstanding than it has slots', () => {
    const { backend, queue, submit } = setup({ maxBatch: 1 }, 2);
    for (let t = 1; t <= 5; t++) void submit(queue('a'), [row(t)]);
    expect(backend.calls.map((c) => c.tags)).toEqual([[1], [2]]);
  });
});

describe('scheduler: admission', () => {
  it('counts queued and in-flight rows against the limit and refuses beyond it with 429 and Retry-After', async () => {
    const { backend, s, queue, submit } = setup({ maxQueue: 10 });
    const q = queue('a');
    const a = submit(
      q,
      [1, 2, 3, 4, 5, 6].map((t) => row(t)),
    );
    const b = submit(q, [row(7), row(8), row(9)]);
    let refused: unknown;
    try {
      submit(q, [row(10), row(11)]);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AsideError);
    expect(refused).toMatchObject({ status: 429, type: 'overloaded', details: { retryAfterSeconds: expect.any(Number) } });
    expect(s.snapshot()).toMatchObject({ queuedRows: 5, inflightRows: 4 });
    void submit(q, [row(12)]); // 10 rows: exactly at the limit, admitted
    expect(s.snapshot().saturated).toBe(true);
    while (backend.calls.some((c) => !(c as { done?: boolean }).done)) await backend.next();
    await Promise.all([a, b]);
    expect(s.snapshot().saturated).toBe(false);
    const again = submit(q, [row(13), row(14)]);
    await backend.next();
    await expect(again).resolves.toHaveLength(2);
  });

  it('admits one request larger than the limit when nothing else is admitted', () => {
    const { backend, queue, submit } = setup({ maxQueue: 2, maxBatch: 8 });
    void submit(queue('a'), [row(1), row(2), row(3)]);
    expect(backend.calls[0].tags).toHaveLength(3);
  });

  it('refuses everything once it stops admitting, and still finishes what it admitted', async () => {
    const { backend, s, queue, submit } = setup();
    const admitted = submit(queue('a'), [row(1)]);
    s.stopAdmitting('shutting down');
    expect(() => submit(queue('a'), [row(2)])).toThrow(expect.objectContaining({ status: 503 }));
    await backend.next();
    await expect(admitted).resolves.toHaveLength(1);
  });
});

describe('scheduler: cancellation and deadlines', () => {
  it('drops the queued rows of a request whose client left; they never run', async () => {
    const { backend, s, queue, submit } = setup({ maxBatch: 8 });
    const q = queue('a');
    void submit(q, [row(1)]);
    const gone = new AbortController();
    const abandoned = submit(q, [row(2), row(3)], gone.signal);
    const kept = submit(q, [row(4)]);
    gone.abort(new AsideError('unavailable', 'client left'));
    await expect(abandoned).rejects.toThrow('client left');
    expect(s.snapshot().queuedRows).toBe(1);
    await backend.next();
    expect(backend.calls.map((c) => c.tags)).toEqual([[1], [4]]);
    await backend.next();
    await expect(kept).resolves.toEqual([Float32Array.of(4)]);
  });

  it('drops rows whose deadline passed before a slot was free, answering 504', async () => {
    const { backend, queue, submit } = setup();
    const q = queue('a');
    void submit(q, [row(1)]);
    const late = submit(q, [row(2)], undefined, Date.now() - 1);
    await backend.next();
    await expect(late).rejects.toMatchObject({ status: 504 });
    expect(backend.calls).toHaveLength(1);
  });

  it('refuses a request whose client already left before it is admitted', () => {
    const { queue, submit } = setup();
    const gone = new AbortController();
    gone.abort(new AsideError('timeout', 'too late'));
    expect(() => submit(queue('a'), [row(1)], gone.signal)).toThrow('too late');
  });
});

describe('scheduler: fairness', () => {
  it('serves a single query before the rest of a large document request queued ahead of it', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 8, maxBatchTokens: 8 * 256 });
    const docs = queue('task|documents');
    const queries = queue('task|queries');
    void submit(
      docs,
      Array.from({ length: 64 }, (_, i) => row(100 + i, 256)),
    );
    const q = submit(queries, [row(1, 12)]);
    await backend.next();
    expect(backend.calls[1].queue).toBe('task|queries');
    await backend.next();
    await expect(q).resolves.toEqual([Float32Array.of(1)]);
  });

  it('shares forward passes between two busy tasks by tokens (deficit round-robin), not by arrival', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 4, maxBatchTokens: 4 * 64 });
    const hot = queue('hot');
    const cold = queue('cold');
    void submit(hot, [row(0)]);
    for (let i = 0; i < 40; i++) void submit(hot, [row(10 + i, 64)]);
    for (let i = 0; i < 8; i++) void submit(cold, [row(90 + i, 64)]);
    for (let i = 0; i < 6; i++) await backend.next();
    // Equal batch costs: the cold task gets every other pass while it has rows, though the hot one queued 40 first.
    expect(backend.calls.slice(1, 7).map((c) => c.queue)).toEqual(['hot', 'cold', 'hot', 'cold', 'hot', 'hot']);
    expect(backend.calls.filter((c) => c.queue === 'cold').flatMap((c) => c.tags)).toEqual([90, 91, 92, 93, 94, 95, 96, 97]);
  });
});

describe('scheduler: failures', () => {
  it('retries a failed batch row by row, so only the request with the bad row fails', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 8 });
    backend.fail = (tags) => (tags.includes(66) ? new Error('indices element out of data bounds') : undefined);
    const q = queue('a');
    void submit(q, [row(1)]);
    const good = [submit(q, [row(2)]), submit(q, [row(3), row(4)])];
    const bad = submit(q, [row(5), row(66)]);
    while (backend.calls.some((c) => !(c as { done?: boolean }).done)) await backend.next();
    await expect(Promise.all(good)).resolves.toHaveLength(2);
    await expect(bad).rejects.toMatchObject({ status: 500, message: expect.stringMatching(/input 1 could not be encoded: indices element out of data bounds/) });
    expect(backend.calls.filter((c) => c.tags.includes(66)).length).toBeGreaterThan(1);
  });

  it('does not retry when the backend itself failed (a worker died): the rows fail at once', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 8 });
    backend.fail = () => new AsideError('unavailable', 'an inference worker stopped');
    const q = queue('a');
    void submit(q, [row(1)]).catch(() => undefined);
    const rows = submit(q, [row(2), row(3)]);
    await backend.next();
    await backend.next();
    await expect(rows).rejects.toMatchObject({ status: 503 });
    expect(backend.calls).toHaveLength(2);
  });
});

describe('scheduler: mixed-task batches', () => {
  it('fills a batch with rows of other tasks on the same stacked graph, each row naming its module', async () => {
    const { backend, s, queue, submit } = setup({ maxBatch: 8 });
    const [a, b, c] = ['a', 'b', 'c'].map((k) => queue(k, 'iaa-l'));
    const first = submit(a, [row(1)]);
    const rest = [submit(b, [row(2)]), submit(c, [row(3), row(4)]), submit(a, [row(5)])];
    await backend.next();
    // b's turn (a left the round-robin when it emptied and rejoined last): c and a fill the rest.
    expect(backend.calls[1]).toMatchObject({ queue: 'mixed:iaa-l', tags: [2, 3, 4, 5], modules: ['module-b', 'module-c', 'module-c', 'module-a'] });
    await backend.next();
    expect((await first)[0][0]).toBe(1);
    expect((await Promise.all(rest)).map((r) => r.map((v) => v[0]))).toEqual([[2], [3, 4], [5]]);
    expect(s.snapshot()).toMatchObject({ queuedRows: 0, inflightRows: 0 });
  });

  it('keeps different groups, and queues without a stacked graph, in batches of their own', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 8 });
    void submit(queue('a', 'iaa-l'), [row(1)]);
    void submit(queue('b', 'lora'), [row(2)]);
    void submit(queue('c'), [row(3)]);
    void submit(queue('d', 'iaa-l'), [row(4)]);
    while (backend.calls.some((c) => !(c as { done?: boolean }).done)) await backend.next();
    expect(backend.calls.map((c) => [c.queue, c.tags])).toEqual([
      ['a', [1]],
      ['b', [2]],
      ['c', [3]],
      ['d', [4]],
    ]);
  });

  it('mixes under the same limits: maxBatch rows and maxBatchTokens padded tokens', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 3, maxBatchTokens: 40 });
    void submit(queue('x', 'g'), [row(9)]);
    void submit(queue('a', 'g'), [row(1, 10)]);
    void submit(queue('b', 'g'), [row(2, 10), row(3, 10)]);
    void submit(queue('c', 'g'), [row(4, 30)]);
    await backend.next();
    // 3 rows at most; the 30-token row would pad the batch to 4 × 30 > 40 tokens anyway.
    expect(backend.calls[1].tags).toEqual([1, 2, 3]);
    await backend.next();
    expect(backend.calls[2]).toMatchObject({ queue: 'c', tags: [4] });
  });

  it('mixes by default on a GPU only; on and off are obeyed on either', () => {
    expect([mixesTasks('auto', 'cuda'), mixesTasks('auto', 'cpu')]).toEqual([true, false]);
    expect([mixesTasks('on', 'cpu'), mixesTasks('1', 'cpu'), mixesTasks('off', 'cuda'), mixesTasks('0', 'cuda')]).toEqual([true, true, false, false]);
  });

  it('does not mix when mixing is switched off', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 8, mixTasks: false });
    void submit(queue('x', 'g'), [row(9)]);
    void submit(queue('a', 'g'), [row(1)]);
    void submit(queue('b', 'g'), [row(2)]);
    await backend.next();
    expect(backend.calls[1]).toMatchObject({ queue: 'a', tags: [1] });
  });

  it('retries the rows of a failed mixed batch alone, each on its own task, so only the bad row fails', async () => {
    const { backend, queue, submit } = setup({ maxBatch: 8 });
    backend.fail = (tags) => (tags.includes(66) ? new Error('indices element out of data bounds') : undefined);
    void submit(queue('x', 'g'), [row(9)]);
    const good = submit(queue('a', 'g'), [row(1)]);
    const bad = submit(queue('b', 'g'), [row(66)]);
    while (backend.calls.some((c) => !(c as { done?: boolean }).done)) await backend.next();
    await expect(good).resolves.toEqual([Float32Array.of(1)]);
    await expect(bad).rejects.toMatchObject({ status: 500 });
    expect(backend.calls.slice(1).map((c) => [c.queue, c.tags])).toEqual([
      ['mixed:g', [1, 66]],
      ['a', [1]],
      ['b', [66]],
    ]);
  });
});
