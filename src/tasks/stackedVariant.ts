import path from 'node:path';
import { InferenceBackend } from '../inference/backend';
import { GraphSource } from '../inference/graphSource';
import { RawTensor } from '../inference/graphRunner';
import { SessionOptions } from '../inference/session';
import { log } from '../log';
import { resolveGraph } from './graphFiles';

/** `<kind>-<role>.onnx` → `<kind>-<role>.stacked.onnx`: the mixed-batch variant training exports beside it. */
export const stackedFileOf = (graphFile: string): string => graphFile.replace(/\.onnx$/, '.stacked.onnx');

/** Module tensor names and dims, canonical: tasks mix only when these are equal. */
export function moduleShapes(tensors: Record<string, RawTensor>): string {
  return Object.keys(tensors)
    .sort()
    .map((n) => `${n}:${tensors[n].dims.join('x')}`)
    .join(',');
}

/**
 * Registers the stacked variant of a task's graph, when one is committed as a template, so the task's
 * rows can share forward passes with other tasks of the same kind (docs/serving.md, "Mixed-task
 * batches"). Only a template beside the task's own template qualifies: it was traced with the same
 * code (a task on a full graph of its own may compute something else), and it opens no session until
 * a mixed batch runs. Without a variant the task simply batches alone.
 */
export async function loadStackedVariant(
  backend: InferenceBackend,
  graphFile: string,
  own: GraphSource,
  backbone: { file: string; sha256: string | undefined },
  session: SessionOptions,
  tensors: Record<string, RawTensor>,
): Promise<{ graph: string; shapes: string } | undefined> {
  const file = stackedFileOf(graphFile);
  let source;
  try {
    source = resolveGraph(file, backbone);
  } catch (err) {
    log.debug({ graph: file, reason: (err as Error).message }, 'no stacked graph: this task batches alone');
    return undefined;
  }
  if (typeof own === 'string' || typeof source === 'string' || path.dirname(source.template) !== path.dirname(own.template)) return undefined;
  if (!source.io?.inputs.some((i) => i.name === 'task_index')) return undefined;
  const graph = `graph:${file}`;
  try {
    await backend.loadGraph(graph, source, session);
  } catch (err) {
    // Mixing is an optimisation: a stacked graph that cannot load must not fail the task's load.
    log.warn({ graph: file, reason: (err as Error).message }, 'stacked graph not loaded: this task batches alone');
    return undefined;
  }
  return { graph, shapes: moduleShapes(tensors) };
}
