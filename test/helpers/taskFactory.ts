import fs from 'node:fs';
import path from 'node:path';
import { GraphRunner } from '../../src/inference/graphRunner';
import { defaultSessionOptions } from '../../src/inference/session';
import { catalogEntry, resolveModel } from '../../src/models/catalog';
import { resolveGraph } from '../../src/tasks/graphFiles';
import { writeSafetensors } from '../../src/tasks/safetensors';
import { moduleInputs, signatureOfGraph } from '../../src/tasks/signature';

export const TEST_GRAPHS = ['all-MiniLM-L6-v2/iaa-l-retriever', 'all-MiniLM-L6-v2/iaa-l-reranker'];

export interface TaskSpec {
  id: string;
  version: string;
  role?: 'retriever' | 'reranker';
  seed?: number;
  /** Bottleneck/rank used for the graph's symbolic dims. */
  size?: number;
  scale?: number;
}

const inputsCache = new Map<string, Awaited<ReturnType<GraphRunner['loadGraph']>>>();

async function graphInfo(file: string) {
  if (!inputsCache.has(file)) {
    const r = new GraphRunner();
    const spec = resolveModel('all-MiniLM-L6-v2');
    inputsCache.set(file, await r.loadGraph('g', resolveGraph(file, { file: spec.modelPath, sha256: spec.modelSha256 }), defaultSessionOptions()));
    await r.close();
  }
  return inputsCache.get(file)!;
}

/**
 * Writes a task directory in the aside-task/1 format for a real exported graph, with seeded random
 * module weights: a module made the way a trainer would, without waiting for a training run.
 */
export async function makeTask(root: string, spec: TaskSpec): Promise<string> {
  const role = spec.role ?? 'retriever';
  const file = `all-MiniLM-L6-v2/iaa-l-${role}.onnx`;
  const info = await graphInfo(file);
  let seed = spec.seed ?? 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * (spec.scale ?? 0.05);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const input of moduleInputs(info.inputs)) {
    const shape = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : (spec.size ?? 4)));
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rand();
    tensors[input.name] = { shape, data };
  }
  const dir = path.join(root, spec.id);
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'module.safetensors'), tensors);
  const manifest = {
    format: 'aside-task/1',
    id: spec.id,
    version: spec.version,
    role,
    kind: 'iaa-l',
    budget: { r: spec.size ?? 4 },
    backbone: { id: 'all-MiniLM-L6-v2', sha256: catalogEntry('all-MiniLM-L6-v2').files.model.sha256 },
    graph: { file, signature: signatureOfGraph(info.inputs) },
    text: { titleSeparator: '. ' },
    pooling: 'mean',
    normalize: true,
    maxLength: role === 'retriever' ? { query: 64, document: 256 } : { pair: 256 },
    tensors: Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, { shape: t.shape, dtype: 'float32' }])),
    weights: 'module.safetensors',
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

export function editManifest(dir: string, edit: (m: any) => void): void {
  const f = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  edit(m);
  fs.writeFileSync(f, JSON.stringify(m, null, 2));
}
