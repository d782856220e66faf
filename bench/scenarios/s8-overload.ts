/**
 * Scenario 8: overload. Offered load at 4× measured capacity (open loop) for 20 s against `serve`
 * with its defaults: the scheduler must refuse what it cannot take (429, answered at once) and keep
 * the latency of what it admits bounded; then 30 clients abandon large requests and a fresh single
 * query must not pay for their work. The peer is the same server unloaded, measured in the same run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { documents, queries } from '../lib/data';
import { load } from '../lib/load';
import { closedLoop, openLoop, send, serial } from '../lib/openLoop';
import { Served } from '../lib/procs';
import { startAside } from '../lib/servers';
import { median, p99, quantile, round } from '../lib/stats';
import { Entry, Scenario, Settings } from '../lib/types';
import { loadConfig } from '../../src/config';

/** Texts per overload request: real queries, so capacity is high enough to count in seconds. */
const BATCH = 8;

export const scenario: Scenario = {
  id: 's8',
  title: 'Overload: 429 at capacity, bounded latency for what is admitted, abandoned work dropped',
  async run(s: Settings, log): Promise<Entry> {
    const t0 = Date.now();
    const seconds = s.tiny ? 1 : s.quick ? 8 : 20;
    const probe = s.tiny ? 0.5 : 3;
    const maxQueue = loadConfig().maxQueue;
    const docs = documents(s.tiny ? 64 : 256).map((d) => d.text);
    const qs = queries(s.tiny ? 24 : Infinity);
    const batches = Array.from({ length: Math.max(1, Math.floor(qs.length / BATCH)) }, (_, i) => JSON.stringify({ inputs: qs.slice(i * BATCH, (i + 1) * BATCH), input_type: 'query' }));
    const singles = qs.map((q) => JSON.stringify({ inputs: q, input_type: 'query' }));
    const big = JSON.stringify({ inputs: [...docs, ...docs, ...docs, ...docs].slice(0, 256) });
    const emptyTasks = fs.mkdtempSync(path.join(s.tmp, 'tasks-'));
    let aside: Served | undefined;
    try {
      aside = await startAside({ tasksDir: emptyTasks });
      const url = `${aside.url}/v1/embed`;
      await load(url, batches, 2, 1, s.tiny ? 4 : 20);

      const unloadedQuery = await serial(url, singles, probe, s.tiny ? 10 : 200);
      const unloadedBatch = await serial(url, batches, probe);
      const capacity = await closedLoop(url, batches, 16, s.tiny ? 0.5 : 5);
      const rowsPerSec = capacity.rps * BATCH;
      log(
        `  unloaded: query p99 ${round(p99(unloadedQuery), 1)} ms, ${BATCH}-query request p99 ${round(p99(unloadedBatch), 1)} ms; capacity ${round(capacity.rps, 1)} req/s (${Math.round(rowsPerSec)} rows/s)`,
      );

      const offered = 4 * capacity.rps;
      const outcomes = await openLoop(url, batches, offered, seconds);
      const admitted = outcomes.filter((o) => o.status === 200).map((o) => o.ms);
      const refused = outcomes.filter((o) => o.status === 429).map((o) => o.ms);
      const other = outcomes.length - admitted.length - refused.length;
      const budgetMs = (maxQueue / rowsPerSec) * 1000;
      const bound = 2 * p99(unloadedBatch) + budgetMs;
      log(
        `  overload at ${round(offered, 1)} req/s for ${seconds} s: ${admitted.length} admitted (p99 ${round(p99(admitted), 0)} ms, bound ${round(bound, 0)} ms), ${refused.length} refused (p99 ${round(p99(refused), 1)} ms), ${other} other`,
      );

      // 30 clients send 256 texts each and give up after 500 ms; then one fresh client.
      const abandoned = await Promise.all(Array.from({ length: 30 }, () => send(url, big, 500)));
      const fresh = await serial(url, singles, probe * 10, s.tiny ? 10 : 200);
      log(
        `  after 30 abandoned requests (${abandoned.filter((o) => o.status === 0).length} abandoned, ${abandoned.filter((o) => o.status === 429).length} refused): fresh query p99 ${round(p99(fresh), 1)} ms (worst ${round(quantile(fresh, 1), 0)} ms) vs ${round(p99(unloadedQuery), 1)} unloaded`,
      );

      const ratio = {
        admitted_p99_vs_bound: round(p99(admitted) / bound, 2),
        refused_p99_ms_vs_10ms: round((refused.length ? p99(refused) : NaN) / 10, 2),
        fresh_query_p99_vs_unloaded: round(p99(fresh) / p99(unloadedQuery), 2),
        refused_share: round(refused.length / outcomes.length, 2),
      };
      if (!refused.length) ratio.refused_p99_ms_vs_10ms = 0;
      const met = refused.length > 0 && ratio.admitted_p99_vs_bound <= 1 && ratio.refused_p99_ms_vs_10ms <= 1 && ratio.fresh_query_p99_vs_unloaded <= 2;
      const ms = (xs: number[]) => (xs.length ? `${round(median(xs), 1)} / ${round(p99(xs), 1)}` : '–');
      return {
        scenario: 's8',
        title: this.title,
        peer: 'the same server unloaded, same run',
        target: 'under 4× capacity: 429s; admitted p99 ≤ 2× unloaded p99 + queue budget; refused p99 ≤ 10 ms; after 30 abandoned requests a fresh query p99 ≤ 2× unloaded',
        met,
        aside: {
          capacity_rps: round(capacity.rps, 1),
          offered_rps: round(offered, 1),
          admitted: admitted.length,
          refused: refused.length,
          other: other,
          admitted_p50_ms: round(median(admitted), 1),
          admitted_p99_ms: round(p99(admitted), 1),
          refused_p99_ms: round(refused.length ? p99(refused) : 0, 1),
          fresh_query_p99_ms: round(p99(fresh), 1),
          queue_budget_ms: round(budgetMs, 0),
        },
        peers: { unloaded: { query_p50_ms: round(median(unloadedQuery), 1), query_p99_ms: round(p99(unloadedQuery), 1), batch_p99_ms: round(p99(unloadedBatch), 1) } },
        ratio,
        tables: [
          {
            caption: `Latency (ms, p50 / p99). Open-loop load of ${BATCH}-query /v1/embed requests at 4× the closed-loop capacity for ${seconds} s; admission limit ASIDE_MAX_QUEUE=${maxQueue} rows (queue budget ${round(budgetMs, 0)} ms at ${Math.round(rowsPerSec)} rows/s)`,
            table: {
              header: ['phase', 'requests', 'p50 / p99 ms'],
              rows: [
                ['unloaded, one query at a time', unloadedQuery.length, ms(unloadedQuery)],
                [`unloaded, one ${BATCH}-query request at a time`, unloadedBatch.length, ms(unloadedBatch)],
                ['overload: admitted (200)', admitted.length, ms(admitted)],
                ['overload: refused (429)', refused.length, ms(refused)],
                ['overload: other (errors, timeouts)', other, '–'],
                ['fresh queries after 30 abandoned 256-text requests', fresh.length, ms(fresh)],
              ],
            },
          },
        ],
        plots: [],
        notes: [
          `Worst refused answer: ${round(quantile(refused, 1), 1)} ms; worst fresh query after the abandoned requests: ${round(quantile(fresh, 1), 0)} ms (it waits for the batches already in a worker, which cannot be recalled). Client, server and load generator share the machine's cores, so absolute figures move with whatever else runs.`,
        ],
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      await aside?.stop();
    }
  },
};
