import client from 'prom-client';

/** What these metrics read from the inference scheduler (structural: this layer imports none of it). */
export interface ObservedScheduler {
  readonly limits: { maxQueue: number; maxBatch: number };
  snapshot(): { queuedRows: number; inflightRows: number; inflightBatches: number };
  events: {
    admitted?(rows: number): void;
    refused?(rows: number): void;
    dropped?(rows: number): void;
    batch?(rows: number, paddedTokens: number, waitsMs: number[], tasks: number): void;
  };
}

/**
 * The scheduler's state as Prometheus metrics: real depth (rows queued and in flight, every task
 * together), admissions and refusals, rows dropped unrun, batch fill and queue wait.
 */
export function registerSchedulerMetrics(registry: client.Registry, scheduler: ObservedScheduler): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('aside_scheduler_queued_rows', 'Rows admitted and waiting for a forward pass, all tasks', () => scheduler.snapshot().queuedRows);
  gauge('aside_scheduler_inflight_rows', 'Rows in batches handed to workers and not yet answered', () => scheduler.snapshot().inflightRows);
  gauge('aside_scheduler_inflight_batches', 'Batches handed to workers and not yet answered', () => scheduler.snapshot().inflightBatches);
  gauge('aside_scheduler_admission_limit_rows', 'Rows that may be admitted at once (ASIDE_MAX_QUEUE)', () => scheduler.limits.maxQueue);
  const admissions = new client.Counter({ name: 'aside_scheduler_admissions_total', help: 'Requests admitted or refused (429) by the scheduler', labelNames: ['result'], registers: [registry] });
  const dropped = new client.Counter({ name: 'aside_scheduler_dropped_rows_total', help: 'Rows dropped before they ran (client gone, deadline passed, request failed)', registers: [registry] });
  const fill = new client.Histogram({ name: 'aside_scheduler_batch_fill_ratio', help: 'Rows per batch divided by ASIDE_MAX_BATCH', buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1], registers: [registry] });
  const wait = new client.Histogram({
    name: 'aside_scheduler_wait_seconds',
    help: 'Time a row waited in its queue before its batch was formed',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const batches = new client.Counter({
    name: 'aside_scheduler_batches_total',
    help: 'Forward passes formed; mixed="true" when rows of several tasks shared one',
    labelNames: ['mixed'],
    registers: [registry],
  });
  scheduler.events = {
    admitted: () => admissions.inc({ result: 'admitted' }),
    refused: () => admissions.inc({ result: 'refused' }),
    dropped: (rows) => dropped.inc(rows),
    batch: (rows, _padded, waits, tasks) => {
      batches.inc({ mixed: tasks > 1 ? 'true' : 'false' });
      fill.observe(rows / scheduler.limits.maxBatch);
      for (const w of waits) wait.observe(w / 1000);
    },
  };
}
