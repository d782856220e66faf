/**
 * Scenario 1: query encoding + top-10 over the served collection, over HTTP, at concurrency 1/8/32.
 * Aside (`serve`, HNSW, micro-batching, query cache off) vs a transformers.js pipeline server and a
 * Python tokenizers + onnxruntime server on the same ONNX file (both brute-force top-10). Every
 * load run is interleaved across the three servers, rotated each round.
 */
import fs from 'node:fs';
import path from 'node:path';
import { queries, servedCollection } from '../lib/data';
import { load, LoadResult } from '../lib/load';
import { Served, startAll } from '../lib/procs';
import { startAside, startPythonPeer, startTransformersPeer } from '../lib/servers';
import { median, round } from '../lib/stats';
import { Entry, Scenario, Settings } from '../lib/types';
import { resolveModel } from '../../src/models/catalog';

type Sys = 'aside' | 'aside-int8' | 'transformers.js' | 'python-ort';

export interface HttpRun {
  rps: number;
  p50: number;
  p99: number;
}

/** Interleaved closed-loop runs: for each concurrency, `rounds` rounds over all servers. */
export async function compareHttp(
  servers: Record<string, { url: string; bodies: string[] }>,
  conc: number[],
  rounds: number,
  seconds: number,
  log: (m: string) => void,
): Promise<Record<string, Record<number, HttpRun>>> {
  const names = Object.keys(servers);
  const out: Record<string, Record<number, HttpRun>> = Object.fromEntries(names.map((n) => [n, {}]));
  for (const n of names) await load(servers[n].url, servers[n].bodies, 2, 1, seconds < 1 ? 4 : 20); // warm-up
  for (const c of conc) {
    const runs: Record<string, LoadResult[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < names.length; i++) {
        const n = names[(i + r) % names.length];
        const res = await load(servers[n].url, servers[n].bodies, c, seconds);
        if (res.errors) log(`  ${n} c=${c}: ${res.errors} errors`);
        runs[n].push(res);
      }
    }
    for (const n of names) {
      out[n][c] = { rps: median(runs[n].map((x) => x.rps)), p50: median(runs[n].map((x) => x.p50)), p99: median(runs[n].map((x) => x.p99)) };
      log(`  c=${c} ${n}: ${out[n][c].rps.toFixed(1)} req/s, p50 ${out[n][c].p50} ms, p99 ${out[n][c].p99} ms`);
    }
  }
  return out;
}

export const scenario: Scenario = {
  id: 's1',
  title: 'Query encoding + top-10 over HTTP',
  async run(s: Settings, log): Promise<Entry> {
    const t0 = Date.now();
    const conc = s.tiny ? [4] : [1, 8, 32];
    const rounds = s.tiny ? 1 : s.quick ? 2 : 3;
    const seconds = s.tiny ? 0.5 : s.quick ? 3 : 5;
    const { dir, docs } = await servedCollection(s.tmp, s.tiny ? 40 : undefined);
    const qs = queries(s.tiny ? 50 : Infinity);
    const emptyTasks = fs.mkdtempSync(path.join(s.tmp, 'tasks-'));
    const started: Served[] = [];
    try {
      log(`starting servers (${docs.length} docs, ${qs.length} distinct queries)`);
      // Aside also runs once more on the catalog's int8 backbone (ASIDE_MODEL=…-q, an existing setting;
      // scenario 7 measures its nDCG change): reported beside, never in the fp32 target check.
      const [aside, tfjs, py, asideQ] = await startAll([
        startAside({ collection: dir, tasksDir: emptyTasks }),
        startTransformersPeer(s.tmp, docs),
        startPythonPeer(s.tmp, { docs }),
        ...(!s.tiny ? [startAside({ collection: dir, tasksDir: emptyTasks, env: { ASIDE_MODEL: `${resolveModel(undefined).id}-q` } })] : []),
      ]);
      started.push(aside, tfjs, py, ...(asideQ ? [asideQ] : []));
      const searchBodies = qs.map((q) => JSON.stringify({ query: q, k: 10, include_text: false }));
      const res = await compareHttp(
        {
          aside: { url: `${aside.url}/v1/search`, bodies: searchBodies },
          ...(asideQ ? { 'aside-int8': { url: `${asideQ.url}/v1/search`, bodies: searchBodies } } : {}),
          'transformers.js': { url: `${tfjs.url}/search`, bodies: qs.map((q) => JSON.stringify({ query: q, k: 10 })) },
          'python-ort': { url: `${py.url}/search`, bodies: qs.map((q) => JSON.stringify({ query: q, k: 10 })) },
        },
        conc,
        rounds,
        seconds,
        log,
      );
      const sys: Sys[] = asideQ ? ['aside', 'aside-int8', 'transformers.js', 'python-ort'] : ['aside', 'transformers.js', 'python-ort'];
      const flat = (n: Sys) =>
        Object.fromEntries(
          conc.flatMap((c) => [
            [`rps@c${c}`, round(res[n][c].rps, 1)],
            [`p50_ms@c${c}`, res[n][c].p50],
            [`p99_ms@c${c}`, res[n][c].p99],
          ]),
        );
      const ratio: Record<string, number> = {};
      for (const c of conc) {
        ratio[`rps_vs_transformers.js@c${c}`] = round(res.aside[c].rps / res['transformers.js'][c].rps, 2);
        ratio[`rps_vs_python-ort@c${c}`] = round(res.aside[c].rps / res['python-ort'][c].rps, 2);
        ratio[`p99_vs_transformers.js@c${c}`] = round(res.aside[c].p99 / res['transformers.js'][c].p99, 2);
        ratio[`p99_vs_python-ort@c${c}`] = round(res.aside[c].p99 / res['python-ort'][c].p99, 2);
      }
      if (asideQ) for (const c of conc) for (const p of ['transformers.js', 'python-ort'] as const) ratio[`int8_rps_vs_${p}@c${c}`] = round(res['aside-int8'][c].rps / res[p][c].rps, 2);
      const met = conc.every((c) => ['transformers.js', 'python-ort'].every((p) => ratio[`rps_vs_${p}@c${c}`] >= 2 && ratio[`p99_vs_${p}@c${c}`] <= 1));
      const misses = conc.flatMap((c) =>
        ['transformers.js', 'python-ort']
          .filter((p) => !(ratio[`rps_vs_${p}@c${c}`] >= 2 && ratio[`p99_vs_${p}@c${c}`] <= 1))
          .map((p) => `c=${c} vs ${p}: ${ratio[`rps_vs_${p}@c${c}`]}× throughput, p99 ratio ${ratio[`p99_vs_${p}@c${c}`]}`),
      );
      return {
        scenario: 's1',
        title: this.title,
        peer: 'transformers.js pipeline (Node) and Python onnxruntime + tokenizers, same ONNX file',
        target: '≥ 2× both peers in throughput at equal or better p99, at concurrency 1, 8, 32',
        met,
        aside: flat('aside'),
        peers: { 'transformers.js': flat('transformers.js'), 'python-ort': flat('python-ort'), ...(asideQ ? { 'aside-int8 (not a peer)': flat('aside-int8') } : {}) },
        ratio,
        tables: [
          {
            caption: `Requests/s (median of ${rounds} interleaved ${seconds}-s runs) and latency (ms; median over runs of each run's p50/p99); ${docs.length} docs, ${qs.length} distinct real SciFact queries, query cache off`,
            table: {
              header: ['concurrency', ...sys.flatMap((n) => [`${n} req/s`, `${n} p50`, `${n} p99`]), 'Aside / t.js', 'Aside / python'],
              rows: conc.map((c) => [
                c,
                ...sys.flatMap((n) => [round(res[n][c].rps, 1), res[n][c].p50, res[n][c].p99]),
                `${ratio[`rps_vs_transformers.js@c${c}`]}×`,
                `${ratio[`rps_vs_python-ort@c${c}`]}×`,
              ]),
            },
          },
          ...(asideQ
            ? [
                {
                  caption: 'Aside on the int8 backbone (ASIDE_MODEL=all-MiniLM-L6-v2-q; nDCG@10 change on SciFact in s7) vs the fp32 peers, same rounds: throughput ratio',
                  table: {
                    header: ['concurrency', 'Aside int8 / t.js', 'Aside int8 / python'],
                    rows: conc.map((c) => [c, `${ratio[`int8_rps_vs_transformers.js@c${c}`]}×`, `${ratio[`int8_rps_vs_python-ort@c${c}`]}×`]),
                  },
                },
              ]
            : []),
        ],
        plots: [
          {
            file: 'perf-s1-throughput.png',
            title: 'Query + top-10 over HTTP: throughput',
            xlabel: 'concurrent clients',
            ylabel: 'requests / s',
            logx: true,
            series: sys.map((n) => ({ label: n, x: conc, y: conc.map((c) => res[n][c].rps) })),
          },
          {
            file: 'perf-s1-latency.png',
            title: 'Query + top-10 over HTTP: p99 latency',
            xlabel: 'concurrent clients',
            ylabel: 'p99 latency (ms)',
            logx: true,
            series: sys.map((n) => ({ label: n, x: conc, y: conc.map((c) => res[n][c].p99) })),
          },
        ],
        notes: [
          'Aside runs its defaults (2 workers × 1 intra-op thread, max batch 32, 2 ms wait) with the query cache disabled (ASIDE_CACHE_SIZE=0) so every request is encoded; peers use onnxruntime defaults (intra-op threads = cores). Load generator (autocannon) runs in the bench process on the same 2 cores.',
          ...(met ? [] : [`Missed: ${misses.join('; ')}.`]),
        ],
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      await Promise.all(started.map((x) => x.stop()));
    }
  },
};
