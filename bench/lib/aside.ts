import { Encoder, openBaseEncoder } from '../../src/inference/encoder';
import { InferenceBackend, InProcessBackend } from '../../src/inference/backend';
import { WorkerPoolBackend } from '../../src/inference/workerPool';
import { defaultSessionOptions, SessionOptions } from '../../src/inference/session';
import { DEFAULT_LIMITS, BatchLimits } from '../../src/inference/batchQueue';
import { resolveModel } from '../../src/models/catalog';

/** MiniLM-L6 / BERT-small shape: 6 layers, hidden 384, FFN 1536. */
export const LAYERS = 6;
export const HIDDEN = 384;
export const FFN = 1536;

/**
 * Useful floating-point work of one forward pass over a row of `len` real tokens: the dense layers
 * (Q, K, V, O and the two FFN matrices) plus attention scores and mixing. Padding is not counted:
 * work spent on pad tokens is waste, so it lowers the fraction rather than inflating it.
 */
export function flopsOfRow(len: number): number {
  const dense = 2 * LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN) * len;
  const attention = 2 * LAYERS * 2 * len * len * HIDDEN;
  return dense + attention;
}

/** Aside's own encoder path (tokenise → scheduler → backend → pooling) in this process. */
export async function asideEncoder(opts: {
  workers: number;
  threads: number;
  model?: string;
  graphOpt?: SessionOptions['graphOptimization'];
  modelPath?: string;
  limits?: Partial<BatchLimits>;
}): Promise<{ encoder: Encoder; backend: InferenceBackend }> {
  const spec = resolveModel(opts.model);
  const backend: InferenceBackend = opts.workers > 0 ? new WorkerPoolBackend(opts.workers) : new InProcessBackend();
  const session: SessionOptions = { ...defaultSessionOptions(), intraOpThreads: opts.threads, ...(opts.graphOpt ? { graphOptimization: opts.graphOpt } : {}) };
  const encoder = await openBaseEncoder({ ...spec, ...(opts.modelPath ? { id: `${spec.id}#${opts.modelPath}`, modelPath: opts.modelPath } : {}) }, backend, session, {
    ...DEFAULT_LIMITS,
    ...opts.limits,
  });
  return { encoder, backend };
}
