/**
 * The optimisations the issue asks for, each measured before/after in the same run through settings
 * that already exist: workers × intra-op threads, graph optimisation level (ASIDE_GRAPH_OPT) and an
 * offline-optimised graph file, padding to the batch max vs a fixed 256, and the micro-batching
 * knobs (ASIDE_MAX_WAIT_MS, ASIDE_MAX_BATCH) and thread layout under HTTP load.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphRunner, RunRequest } from '../../src/inference/graphRunner';
import { defaultSessionOptions, SessionOptions } from '../../src/inference/session';
import { resolveModel } from '../../src/models/catalog';
import { TextTokenizer, TokenBatch } from '../../src/text/tokenizer';
import { asideEncoder } from '../lib/aside';
import { documents, queries, servedCollection } from '../lib/data';
import { startAll } from '../lib/procs';
import { PythonPeer } from '../lib/python';
import { startAside } from '../lib/servers';
import { interleave, median, p99, round, timeMs } from '../lib/stats';
import { Entry, Scenario, Settings, Table } from '../lib/types';
import { compareHttp } from './s1-query-search';

/** The same rows padded to a fixed length instead of the batch's longest row. */
function padTo(b: TokenBatch, len: number): TokenBatch {
  const out = {
    inputIds: new BigInt64Array(b.batch * len),
    attentionMask: new BigInt64Array(b.batch * len),
    tokenTypeIds: new BigInt64Array(b.batch * len),
    batch: b.batch,
    seqLen: len,
    tokens: b.tokens,
  };
  for (let r = 0; r < b.batch; r++) {
    out.inputIds.set(b.inputIds.subarray(r * b.seqLen, (r + 1) * b.seqLen), r * len);
    out.attentionMask.set(b.attentionMask.subarray(r * b.seqLen, (r + 1) * b.seqLen), r * len);
    out.tokenTypeIds.set(b.tokenTypeIds.subarray(r * b.seqLen, (r + 1) * b.seqLen), r * len);
  }
  return out;
}

const emb = { kind: 'embedding', pooling: 'mean', normalize: true } as const;

export const scenario: Scenario = {
  id: 'opt',
  title: 'Optimisations, before/after (existing settings)',
  async run(s: Settings, log): Promise<Entry> {
    const t0 = Date.now();
    const spec = resolveModel(undefined);
    const rounds = s.tiny ? 1 : s.quick ? 3 : 5;
    const tok = new TextTokenizer(spec.tokenizerPath);
    const docTexts = documents(s.tiny ? 8 : 32).map((d) => d.text);
    const qTexts = queries(64);
    const tables: { caption: string; table: Table }[] = [];
    const aside: Record<string, number> = {};
    const ratio: Record<string, number> = {};
    const notes: string[] = [];

    // A. workers × threads on Aside's encoder path.
    const layouts = s.tiny
      ? [
          { workers: 2, threads: 1 },
          { workers: 1, threads: 2 },
        ]
      : [
          { workers: 2, threads: 1 },
          { workers: 1, threads: 2 },
          { workers: 0, threads: 2 },
          { workers: 2, threads: 2 },
        ];
    const encs = await Promise.all(layouts.map((l) => asideEncoder(l)));
    const name = (l: { workers: number; threads: number }) =>
      l.workers ? `${l.workers} worker${l.workers > 1 ? 's' : ''} × ${l.threads} thread${l.threads > 1 ? 's' : ''}` : `in-process × ${l.threads} threads`;
    try {
      const docRows = encs[0].encoder.tokenize(docTexts, 'document');
      const docTokens = docRows.reduce((a, r) => a + r.ids.length, 0);
      let qi = 0;
      const docs = await interleave(Object.fromEntries(layouts.map((l, i) => [name(l), () => timeMs(() => encs[i].encoder.embed(docTexts, 'document'))])), rounds, 1);
      const qs = await interleave(
        Object.fromEntries(
          layouts.map((l, i) => [
            name(l),
            async () => {
              const xs: number[] = [];
              for (let k = 0; k < 8; k++) xs.push(await timeMs(() => encs[i].encoder.embed([qTexts[qi++ % qTexts.length]], 'query')));
              return xs;
            },
          ]),
        ),
        rounds,
        1,
      );
      const base = name(layouts[0]);
      const tps = (k: string) => (docTokens / median(docs[k])) * 1000;
      tables.push({
        caption: `A. Thread layout on Aside's encoder path (ASIDE_WORKERS × ASIDE_THREADS_PER_WORKER): ${docTexts.length} documents in one call (micro-batched ≤ 32), and single queries one at a time (median / p99 of ${rounds} × 8)`,
        table: {
          header: ['layout', 'documents tokens/s', 'vs default', 'query p50 (ms)', 'query p99 (ms)', 'vs default (p50)'],
          rows: layouts.map((l) => {
            const k = name(l);
            return [
              k + (k === base ? ' (default)' : ''),
              round(tps(k), 0),
              `${round(tps(k) / tps(base), 2)}×`,
              round(median(qs[k]), 1),
              round(p99(qs[k]), 1),
              `${round(median(qs[base]) / median(qs[k]), 2)}×`,
            ];
          }),
        },
      });
      for (const l of layouts) {
        const k = name(l);
        ratio[`docs_tps:${l.workers}x${l.threads}_vs_2x1`] = round(tps(k) / tps(base), 2);
        ratio[`query_speed:${l.workers}x${l.threads}_vs_2x1`] = round(median(qs[base]) / median(qs[k]), 2);
      }
      log(`  thread layouts: ${JSON.stringify(ratio)}`);
    } finally {
      await Promise.all(encs.map((e) => e.backend.close()));
    }

    // B. graph optimisation levels and an offline-optimised file; C. padding.
    const optFile = path.join(s.tmp, 'model.opt.onnx');
    const py = new PythonPeer();
    try {
      await py.call({ op: 'optimize', model: spec.modelPath, out: optFile });
    } finally {
      await py.close();
    }
    const levels: SessionOptions['graphOptimization'][] = s.tiny ? ['all'] : ['disabled', 'basic', 'extended', 'all'];
    const runner = new GraphRunner();
    const createMs: Record<string, number> = {};
    const variants = [
      ...levels.map((l) => ({ key: `level ${l}`, file: spec.modelPath, level: l })),
      { key: 'offline-optimised file (level disabled at load)', file: optFile, level: 'disabled' as const },
    ];
    for (const v of variants) createMs[v.key] = await timeMs(() => runner.loadGraph(v.key, v.file, { ...defaultSessionOptions(), intraOpThreads: 2, graphOptimization: v.level }));
    try {
      const docBatch = TextTokenizer.batch(docTexts.slice(0, 8).map((t) => tok.single(t, 256)));
      const qBatch = TextTokenizer.batch(qTexts.slice(0, 8).map((t) => tok.single(t, 256)));
      const run = (graph: string, batch: TokenBatch) => () => timeMs(() => runner.run({ graph, batch, output: emb } as RunRequest));
      const d = await interleave(Object.fromEntries(variants.map((v) => [v.key, run(v.key, docBatch)])), rounds, 1);
      const q = await interleave(Object.fromEntries(variants.map((v) => [v.key, run(v.key, qBatch)])), rounds * 2, 1);
      const ref = 'level all';
      tables.push({
        caption: `B. onnxruntime graph optimisation (ASIDE_GRAPH_OPT; default all) and an offline-optimised graph written by onnxruntime's optimized_model_filepath: session creation and forward pass (ms, median; 2 intra-op threads; 8 documents ≤256 tok, 8 queries)`,
        table: {
          header: ['graph', 'session create', 'documents b=8 p50', 'queries b=8 p50', 'docs: all / this'],
          rows: variants.map((v) => [
            v.key + (v.key === ref ? ' (default)' : ''),
            round(createMs[v.key], 0),
            round(median(d[v.key]), 1),
            round(median(q[v.key]), 1),
            `${round(median(d[ref]) / median(d[v.key]), 2)}×`,
          ]),
        },
      });
      for (const v of variants) ratio[`docs_speed:${v.key.split(' ')[0] === 'level' ? v.key.split(' ')[1] : 'offline'}_vs_all`] = round(median(d[ref]) / median(d[v.key]), 2);
      ratio['session_create:offline_vs_all'] = round(createMs[ref] / createMs[variants[variants.length - 1].key], 2);

      const fixedQ = padTo(qBatch, 256);
      const fixedD = padTo(docBatch, 256);
      const p = await interleave({ 'q max': run(ref, qBatch), 'q 256': run(ref, fixedQ), 'd max': run(ref, docBatch), 'd 256': run(ref, fixedD) }, rounds, 1);
      tables.push({
        caption: 'C. Padding each batch to its longest row (what Aside does) vs to a fixed 256 (ms, median, level all, 2 threads)',
        table: {
          header: ['batch', 'padded to batch max', 'padded to 256', 'speed-up of batch-max padding'],
          rows: [
            [`8 queries (longest ${qBatch.seqLen} tok)`, round(median(p['q max']), 1), round(median(p['q 256']), 1), `${round(median(p['q 256']) / median(p['q max']), 2)}×`],
            [`8 documents (longest ${docBatch.seqLen} tok)`, round(median(p['d max']), 1), round(median(p['d 256']), 1), `${round(median(p['d 256']) / median(p['d max']), 2)}×`],
          ],
        },
      });
      ratio['padding_speedup:queries'] = round(median(p['q 256']) / median(p['q max']), 2);
      ratio['padding_speedup:documents'] = round(median(p['d 256']) / median(p['d max']), 2);
    } finally {
      await runner.close();
    }

    // E. onnxruntime intra-op thread spinning (not an ASIDE_* setting yet: sessions opened here directly).
    {
      const feeds = (b: TokenBatch) => ({
        input_ids: new ort.Tensor('int64', b.inputIds, [b.batch, b.seqLen]),
        attention_mask: new ort.Tensor('int64', b.attentionMask, [b.batch, b.seqLen]),
        token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, [b.batch, b.seqLen]),
      });
      const open = (threads: number, spin: boolean) =>
        ort.InferenceSession.create(spec.modelPath, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          ...(spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
        });
      const sessions = { '2 threads, spinning (default)': await open(2, true), '2 threads, no spinning': await open(2, false), '1 thread': await open(1, true) };
      try {
        const qb = TextTokenizer.batch(qTexts.slice(8, 16).map((t) => tok.single(t, 64)));
        const db = TextTokenizer.batch(docTexts.slice(0, 8).map((t) => tok.single(t, 256)));
        const keys = Object.keys(sessions) as (keyof typeof sessions)[];
        const q = await interleave(Object.fromEntries(keys.map((k) => [k, () => timeMs(() => sessions[k].run(feeds(qb)))])), rounds * 2, 1);
        const d = await interleave(Object.fromEntries(keys.map((k) => [k, () => timeMs(() => sessions[k].run(feeds(db)))])), rounds, 1);
        tables.push({
          caption: 'E. onnxruntime intra-op thread spinning (session config session.intra_op.allow_spinning) on this shared machine: forward pass (ms; median / p99), one session each, interleaved',
          table: {
            header: ['session', 'queries b=8 p50', 'queries b=8 p99', 'documents b=8 p50', 'documents b=8 p99', 'docs: default / this'],
            rows: keys.map((k) => [k, round(median(q[k]), 1), round(p99(q[k]), 1), round(median(d[k]), 1), round(p99(d[k]), 1), `${round(median(d[keys[0]]) / median(d[k]), 2)}×`]),
          },
        });
        ratio['no_spinning_vs_spinning:queries_p50'] = round(median(q[keys[0]]) / median(q[keys[1]]), 2);
        ratio['no_spinning_vs_spinning:queries_p99'] = round(p99(q[keys[0]]) / p99(q[keys[1]]), 2);
        ratio['no_spinning_vs_spinning:documents_p50'] = round(median(d[keys[0]]) / median(d[keys[1]]), 2);
      } finally {
        for (const sess of Object.values(sessions)) await sess.release();
      }
    }

    // D. micro-batching knobs and thread layout under HTTP load (/v1/search, cache off); not in smoke runs.
    if (s.tiny)
      return {
        scenario: 'opt',
        title: this.title,
        peer: 'Aside with its default settings, in the same rounds',
        target: 'find settings that beat the defaults',
        met: null,
        aside,
        peers: {},
        ratio,
        tables,
        plots: [],
        notes: ['smoke run: part D (HTTP) skipped'],
        seconds: (Date.now() - t0) / 1000,
      };
    const { dir, docs } = await servedCollection(s.tmp);
    const empty = fs.mkdtempSync(path.join(s.tmp, 'tasks-'));
    const configs: Record<string, Record<string, string>> = {
      'default (2×1, wait 2 ms, batch 32)': {},
      '1 worker × 2 threads': { ASIDE_WORKERS: '1', ASIDE_THREADS_PER_WORKER: '2' },
      'wait 0 ms': { ASIDE_MAX_WAIT_MS: '0' },
      'wait 5 ms': { ASIDE_MAX_WAIT_MS: '5' },
      'max batch 8': { ASIDE_MAX_BATCH: '8' },
    };
    const names = Object.keys(configs);
    const servers = await startAll(names.map((n) => startAside({ collection: dir, tasksDir: empty, env: configs[n] })));
    try {
      const bodies = queries().map((q) => JSON.stringify({ query: q, k: 10, include_text: false }));
      const conc = [1, 32];
      const res = await compareHttp(Object.fromEntries(names.map((n, i) => [n, { url: `${servers[i].url}/v1/search`, bodies }])), conc, s.quick ? 2 : 3, s.quick ? 2 : 4, log);
      tables.push({
        caption: `D. HTTP /v1/search (${docs.length} docs, query cache off) under each server setting: requests/s and p99 (ms), median of interleaved runs`,
        table: {
          header: ['setting', ...conc.flatMap((c) => [`req/s c=${c}`, `p99 c=${c}`, `vs default c=${c}`])],
          rows: names.map((n) => [n, ...conc.flatMap((c) => [round(res[n][c].rps, 1), res[n][c].p99, `${round(res[n][c].rps / res[names[0]][c].rps, 2)}×`])]),
        },
      });
      for (const n of names.slice(1)) for (const c of conc) ratio[`http_rps:${n}_vs_default@c${c}`] = round(res[n][c].rps / res[names[0]][c].rps, 2);
      for (const c of conc) aside[`default_rps@c${c}`] = round(res[names[0]][c].rps, 1);
    } finally {
      await Promise.all(servers.map((x) => x.stop()));
    }
    notes.push(
      'Each table compares settings against the default in the same interleaved rounds; a ratio > 1 means the setting is faster than the default. Differences within ±5–10% are within the noise of this shared machine.',
    );
    return {
      scenario: 'opt',
      title: this.title,
      peer: 'Aside with its default settings, in the same rounds',
      target: 'find settings that beat the defaults',
      met: null,
      aside,
      peers: {},
      ratio,
      tables,
      plots: [],
      notes,
      seconds: (Date.now() - t0) / 1000,
    };
  },
};
