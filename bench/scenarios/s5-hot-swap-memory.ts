/**
 * Scenario 5: activating a new task version (Aside's hot-swap: validate + load a module into both
 * workers) vs loading a full fine-tuned model copy (an onnxruntime session on a copy of the backbone
 * file + a first forward pass), interleaved; and resident memory with 1, 10, 100 tasks loaded vs
 * 100 full copies (computed from the measured cost of one copy).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Aside } from '../../src/aside';
import { loadConfig } from '../../src/config';
import { resolveModel } from '../../src/models/catalog';
import { REPO_ROOT } from '../../src/paths';
import { makeTask } from '../../test/helpers/taskFactory';
import { interleave, median, p99, round, timeMs } from '../lib/stats';
import { Entry, Scenario, Settings } from '../lib/types';

function probe(tasksDir: string, copies = 0, files: string[] = []): { rss_mb: number; tasks: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', ...tsxLoader(), path.join(REPO_ROOT, 'bench', 'lib', 'memProbe.ts'), tasksDir, String(copies), ...files], {
    cwd: REPO_ROOT,
    env: { ...process.env, ASIDE_LOG_LEVEL: 'warn' },
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.toString().trim().split('\n').pop()!);
}

/** Runs a .ts child under node with tsx's loader (so --expose-gc reaches the process itself). */
function tsxLoader(): string[] {
  return ['--import', 'tsx'];
}

export const scenario: Scenario = {
  id: 's5',
  title: 'Hot-swap activation and memory per task',
  async run(s: Settings, log): Promise<Entry> {
    const t0 = Date.now();
    const spec = resolveModel(undefined);
    const swaps = s.tiny ? 2 : s.quick ? 8 : 20;
    const root = fs.mkdtempSync(path.join(s.tmp, 'swap-'));
    const versions = ['v1', 'v2', 'v3'];
    for (const v of versions) await makeTask(path.join(root, v), { id: 'alpha', version: v, seed: v.charCodeAt(1), size: 8 });
    const copyFile = path.join(s.tmp, 'full-copy.onnx');
    fs.copyFileSync(spec.modelPath, copyFile);
    const app = await Aside.start(loadConfig({ port: 0, workers: 2, tasksDir: root }));
    let swap: number[];
    let full: number[];
    try {
      let i = 0;
      const ids = new ort.Tensor('int64', BigInt64Array.from([101n, 7592n, 2088n, 102n]), [1, 4]);
      const mask = new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]);
      const samples = await interleave(
        {
          swap: () => timeMs(() => app.registry.load(`${versions[i++ % versions.length]}/alpha`)),
          full: () =>
            timeMs(async () => {
              const sess = await ort.InferenceSession.create(copyFile, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
              await sess.run({ input_ids: ids, attention_mask: mask, token_type_ids: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]) });
              await sess.release();
            }),
        },
        swaps,
        1,
      );
      swap = samples.swap;
      full = samples.full;
    } finally {
      await app.close();
    }
    log(`  activation: module swap p50 ${median(swap).toFixed(1)} ms, full copy p50 ${median(full).toFixed(1)} ms`);

    // Memory, each in a fresh process.
    const counts = s.tiny ? [1] : [1, 10, 100];
    const rss: Record<number, number> = {};
    let oneTaskDir = '';
    for (const n of counts) {
      const dir = fs.mkdtempSync(path.join(s.tmp, `mem${n}-`));
      if (n === counts[0]) oneTaskDir = dir;
      for (let k = 0; k < n; k++) await makeTask(dir, { id: `task${k}`, version: '1', seed: k + 1, size: 8 });
      rss[n] = probe(dir).rss_mb;
      log(`  RSS with ${n} tasks: ${rss[n].toFixed(0)} MB`);
    }
    // The same one-task server plus `copies` full sessions (from two distinct files): cost of one copy.
    const copies = 2;
    const withCopies = probe(oneTaskDir, copies, [copyFile, spec.modelPath]).rss_mb;
    const perCopy = (withCopies - rss[counts[0]]) / copies;
    const hundredCopies = rss[counts[0]] + 99 * perCopy;
    const last = counts[counts.length - 1];
    const growth = rss[last] / rss[counts[0]];
    log(`  one full copy: +${perCopy.toFixed(0)} MB; 100 copies (computed) ${hundredCopies.toFixed(0)} MB`);
    const swapP50 = median(swap);
    const fullP50 = median(full);
    return {
      scenario: 's5',
      title: this.title,
      peer: 'loading a full fine-tuned model copy per task (onnxruntime session on the backbone-sized file)',
      target: `${last} tasks < 1.2× the resident memory of one`,
      met: growth < 1.2,
      aside: { swap_p50_ms: round(swapP50, 1), swap_p99_ms: round(p99(swap), 1), ...Object.fromEntries(counts.map((n) => [`rss_mb@${n}_tasks`, round(rss[n], 0)])) },
      peers: { 'full-copy': { load_p50_ms: round(fullP50, 1), load_p99_ms: round(p99(full), 1), rss_mb_per_copy: round(perCopy, 0), [`rss_mb@100_copies_computed`]: round(hundredCopies, 0) } },
      ratio: {
        [`rss_${last}_tasks_vs_1`]: round(growth, 3),
        activation_speedup_p50: round(fullP50 / swapP50, 2),
        activation_speedup_p99: round(p99(full) / p99(swap), 2),
        ...(last === 100 ? { rss_vs_100_copies: round(rss[100] / hundredCopies, 3) } : {}),
      },
      tables: [
        {
          caption: `Activation time (ms) over ${swaps} interleaved swaps; Aside = registry.load() of a new version of an iaa-l retriever (what PUT /v1/tasks/:id does: manifest + tensor validation, graph check, module sent to both workers, atomic switch)`,
          table: {
            header: ['', 'p50', 'p99'],
            rows: [
              ['Aside module swap', round(swapP50, 1), round(p99(swap), 1)],
              ['full model copy (session create + first pass)', round(fullP50, 1), round(p99(full), 1)],
              ['speed-up', `${round(fullP50 / swapP50, 1)}×`, `${round(p99(full) / p99(swap), 1)}×`],
            ],
          },
        },
        {
          caption:
            'Resident set (MB) of a fresh server process (2 workers, no collection) after loading the tasks and one request; one full copy = (RSS of the 1-task server with 2 extra full-model sessions − RSS of the 1-task server) / 2; 100 copies computed as RSS(1 task) + 99 × that',
          table: {
            header: ['loaded', 'RSS (MB)', 'vs 1 task'],
            rows: [
              ...counts.map((n) => [`Aside, ${n} task${n > 1 ? 's' : ''}`, round(rss[n], 0), `${round(rss[n] / rss[counts[0]], 3)}×`]),
              ['one extra full model copy', `+${round(perCopy, 0)}`, ''],
              ['100 full copies (computed)', round(hundredCopies, 0), `${round(hundredCopies / rss[counts[0]], 1)}×`],
            ],
          },
        },
      ],
      plots: [],
      notes: [
        'The task modules are seeded random iaa-l modules (bottleneck 8) on the real exported graph; all tasks of one kind share one graph session per worker, so each extra task costs its tensors (~0.5 MB) in each worker.',
        "The full-copy peer is conservative: one session per task, although a server with 2 workers would hold each copy twice. The copy is read from the page cache, as is Aside's module file.",
        'A swap of a retriever whose collection index is in use also re-embeds the collection before activation; that is not included here (no collection is served in this measurement).',
        ...(growth < 1.2 ? [] : [`Missed: ${last} tasks use ${growth.toFixed(2)}× the memory of one.`]),
      ],
      seconds: (Date.now() - t0) / 1000,
    };
  },
};
