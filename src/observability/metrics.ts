import client from 'prom-client';

/** Every Prometheus metric Aside exports, in one registry (GET /metrics). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly requests = new client.Counter({ name: 'aside_requests_total', help: 'HTTP requests by route, task and status', labelNames: ['route', 'task', 'status'], registers: [this.registry] });
  readonly latency = new client.Histogram({
    name: 'aside_request_seconds',
    help: 'HTTP request latency by route and task',
    labelNames: ['route', 'task'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly batchSize = new client.Histogram({
    name: 'aside_batch_rows',
    help: 'Rows per forward pass by task',
    labelNames: ['task'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly batchTokens = new client.Histogram({
    name: 'aside_batch_padded_tokens',
    help: 'Padded tokens per forward pass by task',
    labelNames: ['task'],
    buckets: [64, 256, 1024, 4096, 16384, 65536],
    registers: [this.registry],
  });
  readonly queueDepth = new client.Gauge({ name: 'aside_queue_rows', help: 'Rows waiting for a forward pass, by task', labelNames: ['task'], registers: [this.registry] });
  readonly cache = new client.Counter({ name: 'aside_query_cache_total', help: 'Query-embedding cache lookups by result', labelNames: ['result'], registers: [this.registry] });
  readonly swaps = new client.Counter({ name: 'aside_task_swaps_total', help: 'Task versions replaced while serving', labelNames: ['task'], registers: [this.registry] });
  readonly tasksLoaded = new client.Gauge({ name: 'aside_tasks_loaded', help: 'Tasks currently loaded', registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'aside_' });
  }

  batchStats(task: string) {
    return {
      onBatch: (rows: number, padded: number) => {
        this.batchSize.observe({ task }, rows);
        this.batchTokens.observe({ task }, padded);
      },
    };
  }
}
