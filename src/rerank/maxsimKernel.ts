import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { REPO_ROOT } from '../paths';
import { QuantizedStates } from './tokenStates';

/** The weight-free ONNX graph of training/aside_training/maxsim_kernel.py (committed). */
export const maxsimKernelPath = (): string => path.join(REPO_ROOT, 'models', 'kernels', 'maxsim-int8.onnx');

/** Which token positions count: all, or all but the [CLS] first and [SEP] last of each encoded text. */
export type SpecialTokens = 'include' | 'exclude';

export interface MaxSimQuery {
  /** Unit-length float32 token states, tokens × dims. */
  states: Float32Array;
  tokens: number;
}

const KERNEL_SLICE = 128;

const counts = (i: number, n: number, special: SpecialTokens): boolean => special === 'include' || n <= 2 || (i > 0 && i < n - 1);

/**
 * Scores documents against one query by MaxSim with the compiled kernel: documents are padded into one
 * [N, Ld, D] int8 tensor (pads and excluded tokens masked), so the per-token work is a MatMul and two
 * reductions in onnxruntime rather than a JS loop.
 */
export class MaxSimKernel {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async open(file = maxsimKernelPath(), threads = 1): Promise<MaxSimKernel> {
    return new MaxSimKernel(await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' }));
  }

  async score(query: MaxSimQuery, docs: QuantizedStates[], special: SpecialTokens): Promise<Float32Array> {
    const out = new Float32Array(docs.length);
    // Slices bound the kernel's float intermediate (slice × tokens × dims) for windows of up to 1000 documents.
    for (let s = 0; s < docs.length; s += KERNEL_SLICE) out.set(await this.scoreSlice(query, docs.slice(s, s + KERNEL_SLICE), special), s);
    return out;
  }

  private async scoreSlice(query: MaxSimQuery, docs: QuantizedStates[], special: SpecialTokens): Promise<Float32Array> {
    const dims = docs[0].dims;
    if (query.states.length !== query.tokens * dims) throw new Error(`query states are ${query.states.length / query.tokens} dims, documents ${dims}`);
    const n = docs.length;
    const ld = Math.max(1, ...docs.map((d) => d.tokens));
    const values = new Int8Array(n * ld * dims);
    const scales = new Float32Array(n * ld);
    const docMask = new Float32Array(n * ld);
    docs.forEach((d, i) => {
      values.set(d.values, i * ld * dims);
      scales.set(d.scales, i * ld);
      for (let t = 0; t < d.tokens; t++) docMask[i * ld + t] = counts(t, d.tokens, special) ? 1 : 0;
    });
    const queryMask = Float32Array.from({ length: query.tokens }, (_, t) => (counts(t, query.tokens, special) ? 1 : 0));
    const out = await this.session.run({
      query: new ort.Tensor('float32', query.states, [query.tokens, dims]),
      query_mask: new ort.Tensor('float32', queryMask, [query.tokens]),
      docs: new ort.Tensor('int8', values, [n, ld, dims]),
      scales: new ort.Tensor('float32', scales, [n, ld]),
      doc_mask: new ort.Tensor('float32', docMask, [n, ld]),
    });
    return Float32Array.from(out.scores.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
