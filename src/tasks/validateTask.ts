import crypto from 'node:crypto';
import { AsideError } from '../errors';
import { GraphInfo, RawTensor } from '../inference/graphRunner';
import { Manifest } from './manifest';
import { readSafetensors } from './safetensors';
import { moduleInputs, signatureOfGraph } from './signature';
import { readTaskFile, TASK_FILE_LIMITS } from './taskFiles';

const invalid = (msg: string, details?: Record<string, unknown>) => new AsideError('validation', msg, details);

/** Reads and schema-checks `manifest.json` of a task directory (a regular file inside the models root). */
export async function readManifest(root: string, dir: string): Promise<Manifest> {
  const bytes = await readTaskFile(root, dir, 'manifest.json', TASK_FILE_LIMITS.manifestBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    // The parser's message quotes the file; a linked file's content must never reach the client.
    throw invalid(`manifest.json is not valid JSON`);
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) throw invalid(`manifest.json does not match aside-task/1: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Reads a task's weights file (a regular file inside the models root, within the size cap). */
export function readWeights(root: string, dir: string, manifest: Manifest): Promise<Buffer> {
  return readTaskFile(root, dir, manifest.weights, TASK_FILE_LIMITS.weightsBytes);
}

/**
 * Checks a task's weights against its manifest and the graph it will run on, completely, before
 * anything is activated: every module input fed, nothing extra, shapes and dtypes right, values finite.
 */
export function validateModule(manifest: Manifest, bytes: Buffer, graph: GraphInfo, backboneSha256: string | undefined): { tensors: Record<string, RawTensor>; weightsSha256: string } {
  if (backboneSha256 && manifest.backbone.sha256 !== backboneSha256) {
    throw invalid(
      `task '${manifest.id}' was trained on backbone ${manifest.backbone.id} (sha256 ${manifest.backbone.sha256.slice(0, 12)}…), but this server runs sha256 ${backboneSha256.slice(0, 12)}…`,
    );
  }
  const pinned = manifest.graph;
  if (!pinned) throw invalid(`task '${manifest.id}' names no graph`);
  const sig = signatureOfGraph(graph.inputs);
  if (sig !== pinned.signature) throw invalid(`graph signature mismatch for '${pinned.file}': manifest pins ${pinned.signature.slice(0, 12)}…, the graph has ${sig.slice(0, 12)}…`);
  const wanted = new Map(moduleInputs(graph.inputs).map((i) => [i.name, i]));
  const declared = Object.keys(manifest.tensors);
  const missing = [...wanted.keys()].filter((n) => !(n in manifest.tensors));
  const extra = declared.filter((n) => !wanted.has(n));
  if (missing.length || extra.length) throw invalid(`manifest tensors do not match the graph inputs`, { missing, extra });
  let file;
  try {
    file = readSafetensors(manifest.weights, bytes);
  } catch (e) {
    throw invalid(`weights file is unreadable: ${(e as Error).message}`);
  }
  const out: Record<string, RawTensor> = {};
  // A symbolic dimension (e.g. the bottleneck 'r') is one size across all tensors, or the graph fails at run time.
  const symbols = new Map<string, { size: number; tensor: string }>();
  for (const name of declared) {
    const spec = manifest.tensors[name];
    const t = file.get(name);
    if (!t) throw invalid(`tensor '${name}' is in the manifest but not in ${manifest.weights}`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) throw invalid(`tensor '${name}' has shape [${t.shape}] in the weights, [${spec.shape}] in the manifest`);
    const input = wanted.get(name)!;
    if (input.type !== 'float32') throw invalid(`graph input '${name}' is ${input.type}, expected float32`);
    if (input.shape.length !== t.shape.length || input.shape.some((d, i) => typeof d === 'number' && d > 0 && d !== t.shape[i]))
      throw invalid(`tensor '${name}' has shape [${t.shape}], the graph wants [${input.shape}]`);
    input.shape.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const seen = symbols.get(d);
      if (seen && seen.size !== t.shape[i]) throw invalid(`dimension '${d}' is ${seen.size} in tensor '${seen.tensor}' but ${t.shape[i]} in tensor '${name}'; the graph needs one size for it`);
      symbols.set(d, { size: t.shape[i], tensor: name });
    });
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) throw invalid(`tensor '${name}' has a non-finite value at index ${i}`);
    out[name] = { dims: t.shape, data: t.data };
  }
  return { tensors: out, weightsSha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
