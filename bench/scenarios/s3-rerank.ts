/**
 * Scenario 3: re-ranking 100 candidates with a cross-encoder task (iaa-l reranker graph, pairs
 * truncated at 256 tokens) over HTTP: Aside POST /v1/rerank vs the Python tokenizers + onnxruntime
 * server running the same graph with the same module tensors. Requests alternate between the two.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveModel } from '../../src/models/catalog';
import { resolveGraph } from '../../src/tasks/graphFiles';
import { makeTask } from '../../test/helpers/taskFactory';
import { documents, queries } from '../lib/data';
import { startAll } from '../lib/procs';
import { startAside, startPythonPeer } from '../lib/servers';
import { interleave, median, p99, round, timeMs } from '../lib/stats';
import { Entry, Scenario, Settings } from '../lib/types';

async function post(url: string, body: string): Promise<void> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

/** The graph as the Python peer opens it: a full graph file, or a template with the backbone file to bind. */
function peerGraph(file: string): { graph: string; externalData?: { path: string; file: string } } {
  const spec = resolveModel(undefined);
  const g = resolveGraph(file, { file: spec.modelPath, sha256: spec.modelSha256 });
  return typeof g === 'string' ? { graph: g } : { graph: g.template, externalData: { path: g.externalPath, file: g.backboneFile } };
}

export const scenario: Scenario = {
  id: 's3',
  title: 'Re-ranking 100 candidates (cross-encoder, max length 256)',
  async run(s: Settings, log): Promise<Entry> {
    const t0 = Date.now();
    const n = s.tiny ? 10 : 100;
    const rounds = s.tiny ? 1 : s.quick ? 2 : 4;
    const tasks = fs.mkdtempSync(path.join(s.tmp, 'rr-'));
    const dir = await makeTask(tasks, { id: 'rr', version: '1', role: 'reranker', seed: 7, size: 8 });
    const docs = documents(2000).map((d) => d.text);
    const qs = queries(rounds + 2);
    const req = (r: number) => ({ query: qs[r % qs.length], documents: Array.from({ length: n }, (_, i) => docs[(r * n + i) % docs.length]) });
    const [aside, py] = await startAll([
      startAside({ tasksDir: tasks }),
      startPythonPeer(s.tmp, {
        docs: [{ id: 'x', text: 'placeholder' }],
        reranker: { ...peerGraph('all-MiniLM-L6-v2/iaa-l-reranker.onnx'), weights: path.join(dir, 'module.safetensors'), maxLen: 256 },
      }),
    ]);
    let samples: Record<'aside' | 'python', number[]>;
    try {
      let ra = 0;
      let rp = 0;
      samples = await interleave(
        {
          aside: () => timeMs(() => post(`${aside.url}/v1/rerank`, JSON.stringify({ ...req(ra++), task: 'rr' }))),
          python: () => timeMs(() => post(`${py.url}/rerank`, JSON.stringify(req(rp++)))),
        },
        rounds,
        1,
      );
    } finally {
      await Promise.all([aside.stop(), py.stop()]);
    }
    const a = median(samples.aside);
    const p = median(samples.python);
    log(`  ${n} pairs: aside p50 ${a.toFixed(0)} ms, python p50 ${p.toFixed(0)} ms`);
    return {
      scenario: 's3',
      title: this.title,
      peer: 'Python onnxruntime + tokenizers HTTP server on the same reranker graph and module tensors',
      target: 'faster than the peer (latency and pairs/s)',
      met: a < p,
      aside: { p50_ms: round(a, 1), p99_ms: round(p99(samples.aside), 1), pairs_per_s: round((n / a) * 1000, 1) },
      peers: { 'python-ort': { p50_ms: round(p, 1), p99_ms: round(p99(samples.python), 1), pairs_per_s: round((n / p) * 1000, 1) } },
      ratio: { pairs_per_s_vs_python: round(p / a, 2), p99_vs_python: round(p99(samples.aside) / p99(samples.python), 2) },
      tables: [
        {
          caption: `One client, ${rounds} interleaved requests each, each a real SciFact query with ${n} real SciFact documents (pairs truncated longest-first at 256 tokens)`,
          table: {
            header: ['', 'p50 (ms)', 'p99 (ms)', 'pairs/s'],
            rows: [
              ['Aside /v1/rerank', round(a, 0), round(p99(samples.aside), 0), round((n / a) * 1000, 1)],
              ['Python ORT /rerank', round(p, 0), round(p99(samples.python), 0), round((n / p) * 1000, 1)],
              ['Aside / Python', `${round(a / p, 2)}×`, `${round(p99(samples.aside) / p99(samples.python), 2)}×`, `${round(p / a, 2)}×`],
            ],
          },
        },
      ],
      plots: [],
      notes: [
        "Aside splits the 100 pairs into micro-batches of ≤ 32 rows sorted by length (less padding) and runs them on its 2 workers; the Python peer runs one padded batch of 100 on a 2-thread session. No transformers.js figure: its pipelines cannot feed a task module's tensors to the graph.",
        'With only a handful of requests per run the p99 is the slowest request.',
      ],
      seconds: (Date.now() - t0) / 1000,
    };
  },
};
