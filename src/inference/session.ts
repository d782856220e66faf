import * as ort from 'onnxruntime-node';
import { log } from '../log';
import { setting } from '../config';
import { describeSource, GraphSource, templateBytes } from './graphSource';

export type Provider = 'cpu' | 'cuda';

export interface SessionOptions {
  provider: Provider;
  intraOpThreads: number;
  /** onnxruntime graph optimisation level. */
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  /** Memory levers (docs/performance.md, memory table); absent = the ASIDE_* setting, else the default. */
  memory?: Partial<MemoryOptions>;
}

export interface MemoryOptions {
  /**
   * onnxruntime's CPU arena keeps every session's peak activations for good (a 32 × 256-token batch
   * leaves ~100s of MB per session); off, they go back to malloc after each run and are shared by
   * the sessions of a thread. ASIDE_CPU_ARENA=1 turns it on.
   */
  cpuArena: boolean;
  /** Memory patterns pre-plan one block per input shape seen (dynamic shapes: many). ASIDE_MEM_PATTERN=1. */
  memPattern: boolean;
  /** Open a graph's session at its first forward pass, so graphs nobody uses cost nothing. ASIDE_LAZY_SESSIONS=0 turns it off. */
  lazySessions: boolean;
}

export function memoryOptions(opts: SessionOptions): MemoryOptions {
  return {
    cpuArena: opts.memory?.cpuArena ?? setting('cpuArena'),
    memPattern: opts.memory?.memPattern ?? setting('memPattern'),
    lazySessions: opts.memory?.lazySessions ?? setting('lazySessions'),
  };
}

export function defaultSessionOptions(): SessionOptions {
  return { provider: setting('provider'), intraOpThreads: setting('intraOpThreads'), graphOptimization: setting('graphOptimization') };
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: Provider;
}

/**
 * Opens an onnxruntime session on the configured provider. CUDA is tried only when asked for; if its
 * provider cannot load (no GPU, no CUDA libraries) the session falls back to CPU and says so in the log.
 */
export async function openSession(source: GraphSource, opts: SessionOptions): Promise<OpenedSession> {
  const mem = memoryOptions(opts);
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimization,
    enableCpuMemArena: mem.cpuArena,
    enableMemPattern: mem.memPattern,
    ...(opts.intraOpThreads > 0 ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    interOpNumThreads: 1,
    // A spinning intra-op pool burns the cores other workers need; measured 1.44x faster query
    // batches with it off on 2-thread sessions (docs/performance.md). ASIDE_INTRA_OP_SPINNING=1 restores it.
    ...(opts.intraOpThreads !== 1 && !setting('intraOpSpinning') ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
  // A template is bound to the backbone's bytes here; the buffers are garbage once the session holds its copy.
  const create = (o: ort.InferenceSession.SessionOptions) => {
    if (typeof source === 'string') return ort.InferenceSession.create(source, o);
    const { model, externalData } = templateBytes(source);
    return ort.InferenceSession.create(model, { ...o, externalData });
  };
  const modelPath = describeSource(source);
  if (opts.provider === 'cuda') {
    try {
      const session = await create({ ...base, executionProviders: ['cuda'] });
      log.info({ provider: 'cuda', model: modelPath }, 'execution provider: CUDA');
      return { session, provider: 'cuda' };
    } catch (err) {
      log.warn({ provider: 'cpu', requested: 'cuda', reason: (err as Error).message }, 'CUDA execution provider unavailable; falling back to CPU');
    }
  }
  const session = await create({ ...base, executionProviders: ['cpu'] });
  log.info({ provider: 'cpu', model: modelPath, intraOpThreads: opts.intraOpThreads || 'default' }, 'execution provider: CPU');
  return { session, provider: 'cpu' };
}
