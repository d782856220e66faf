/**
 * Scenario 2: document encoding throughput (real tokens/s) at batch 1–64, Aside's encoder path
 * (tokenise, micro-batch, 2 worker threads) vs Python tokenizers + onnxruntime on the same ONNX file,
 * and the fraction of this machine's fp32 GEMM rate (numpy matmul, measured in the same rounds) the
 * encoder reaches.
 */
import { resolveModel } from '../../src/models/catalog';
import { asideEncoder, flopsOfRow } from '../lib/aside';
import { documents } from '../lib/data';
import { PythonPeer } from '../lib/python';
import { median, round, timeMs } from '../lib/stats';
import { Entry, Scenario, Settings } from '../lib/types';

export const scenario: Scenario = {
  id: 's2',
  title: 'Document encoding throughput vs batch size',
  async run(s: Settings, log): Promise<Entry> {
    const t0 = Date.now();
    const batches = s.tiny ? [1, 4] : [1, 2, 4, 8, 16, 32, 64];
    const rounds = s.tiny ? 1 : s.quick ? 2 : 4;
    const spec = resolveModel(undefined);
    const docs = documents(s.tiny ? 64 : 2000).map((d) => d.text);
    const { encoder, backend } = await asideEncoder({ workers: 2, threads: 1 });
    const py = new PythonPeer();
    try {
      await py.call({ op: 'load', key: 'base', model: spec.modelPath, tokenizer: spec.tokenizerPath, maxLen: spec.maxLength });
      const gemm: number[] = [];
      const res: Record<number, { aside: number[]; python: number[]; tokens: number[]; flops: number[] }> = {};
      let offset = 0;
      for (let r = -1; r < rounds; r++) {
        gemm.push(Math.max(...(await py.call<{ gflops: number[] }>({ op: 'gemm', n: 1024, reps: 3 })).gflops));
        for (const b of batches) {
          if (r < 0 && b > 8) continue; // warm-up round: small batches only
          const texts = Array.from({ length: b }, (_, i) => docs[(offset + i) % docs.length]);
          offset += b;
          const rows = encoder.tokenize(texts, 'document');
          const tokens = rows.reduce((a, x) => a + x.ids.length, 0);
          const flops = rows.reduce((a, x) => a + flopsOfRow(x.ids.length), 0);
          const first = (r + b) % 2 === 0;
          let a = 0;
          let p = 0;
          for (const who of first ? ['a', 'p'] : ['p', 'a']) {
            if (who === 'a') a = await timeMs(() => encoder.embed(texts, 'document'));
            else p = (await py.call<{ ms: number[] }>({ op: 'encode', key: 'base', texts, reps: 1 })).ms[0];
          }
          if (r < 0) continue; // warm-up round
          const e = (res[b] ??= { aside: [], python: [], tokens: [], flops: [] });
          e.aside.push(a);
          e.python.push(p);
          e.tokens.push(tokens);
          e.flops.push(flops);
        }
      }
      gemm.shift();
      const gemmRate = median(gemm);
      const gemmBest = Math.max(...gemm);
      const rowsOut: (string | number)[][] = [];
      const aside: Record<string, number> = {};
      const python: Record<string, number> = {};
      const ratio: Record<string, number> = {};
      const tps = (ms: number[], tok: number[]) => median(ms.map((m, i) => (tok[i] / m) * 1000));
      const gf = (ms: number[], fl: number[]) => median(ms.map((m, i) => fl[i] / m / 1e6));
      for (const b of batches) {
        const e = res[b];
        const at = tps(e.aside, e.tokens);
        const pt = tps(e.python, e.tokens);
        const ag = gf(e.aside, e.flops);
        const pg = gf(e.python, e.flops);
        aside[`tokens_per_s@b${b}`] = round(at, 0);
        aside[`gflops@b${b}`] = round(ag, 2);
        aside[`gemm_fraction@b${b}`] = round(ag / gemmRate, 3);
        python[`tokens_per_s@b${b}`] = round(pt, 0);
        python[`gemm_fraction@b${b}`] = round(pg / gemmRate, 3);
        ratio[`tokens_per_s_vs_python@b${b}`] = round(at / pt, 2);
        aside[`gemm_fraction_of_best@b${b}`] = round(ag / gemmBest, 3);
        rowsOut.push([
          b,
          round(median(e.tokens) / b, 0),
          round(at, 0),
          round(pt, 0),
          `${round(at / pt, 2)}×`,
          round(ag, 1),
          `${round((100 * ag) / gemmRate, 1)}%`,
          `${round((100 * ag) / gemmBest, 1)}%`,
          `${round((100 * pg) / gemmRate, 1)}%`,
        ]);
        log(`  b=${b}: aside ${at.toFixed(0)} tok/s, python ${pt.toFixed(0)} tok/s, aside ${((100 * ag) / gemmRate).toFixed(1)}% of GEMM`);
      }
      const bTarget = batches.includes(32) ? 32 : batches[batches.length - 1];
      const frac = aside[`gemm_fraction@b${bTarget}`];
      const headline = { [`gemm_fraction@b${bTarget}`]: frac, ...ratio };
      return {
        scenario: 's2',
        title: this.title,
        peer: `Python onnxruntime ${'+'} tokenizers on the same ONNX file; numpy fp32 GEMM (1024³) for the machine's rate`,
        target: '≥ 60% of the measured fp32 GEMM rate at batch 32',
        met: frac >= 0.6,
        aside: { ...aside, gemm_gflops: round(gemmRate, 1), gemm_gflops_best: round(gemmBest, 1) },
        peers: { 'python-ort': python, 'numpy-gemm': { gflops: round(gemmRate, 1) } },
        ratio: headline,
        tables: [
          {
            caption: `Median of ${rounds} interleaved rounds; ${docs.length} real SciFact documents, truncated at ${spec.maxLength} tokens, padded to the batch max; GEMM rate ${gemmRate.toFixed(1)} GFLOP/s (numpy, median over rounds; best round ${gemmBest.toFixed(1)})`,
            table: {
              header: ['batch', 'tokens/doc', 'Aside tokens/s', 'Python tokens/s', 'Aside / Python', 'Aside GFLOP/s', 'Aside % of GEMM (median)', 'Aside % of best GEMM', 'Python % of GEMM (median)'],
              rows: rowsOut,
            },
          },
        ],
        plots: [
          {
            file: 'perf-s2-throughput.png',
            title: 'Document encoding: throughput vs batch size',
            xlabel: 'batch size (documents)',
            ylabel: 'real tokens / s',
            logx: true,
            series: [
              { label: 'Aside (2 workers × 1 thread)', x: batches, y: batches.map((b) => aside[`tokens_per_s@b${b}`]) },
              { label: 'Python ORT (2 threads)', x: batches, y: batches.map((b) => python[`tokens_per_s@b${b}`]) },
            ],
          },
        ],
        notes: [
          'FLOPs are counted on real tokens only (dense layers + attention, 2 FLOPs per multiply-add); compute spent on padding counts as waste. The GEMM rate is a 1024×1024 fp32 numpy matmul on both cores, taken at the start of each round.',
          ...(frac >= 0.6
            ? []
            : [
                `Missed: ${(100 * frac).toFixed(1)}% of GEMM at batch ${bTarget} (target 60%). A 1024³ GEMM is the best case for the BLAS; the encoder's matrices are 384-wide (K=384 or 1536), each layer also runs softmax, layer-norm, GELU and attention reshapes that are memory-bound, and two workers each run a single-threaded session that split the two cores between them.`,
              ]),
        ],
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      await py.close();
      await backend.close();
    }
  },
};
