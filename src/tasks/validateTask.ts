import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AsideError } from '../errors';
import { GraphInfo, RawTensor } from '../inference/graphRunner';
import { Manifest } from './manifest';
import { readSafetensors } from './safetensors';
import { moduleInputs, signatureOfGraph } from './signature';

const invalid = (msg: string, details?: Record<string, unknown>) => new AsideError('validation', msg, details);

/** Resolves `p` inside `root`, refusing anything (.., absolute paths, symlinks) that escapes it. */
export function insideRoot(root: string, p: string): string {
  const realRoot = fs.realpathSync(root);
  const candidate = path.resolve(realRoot, p);
  if (!fs.existsSync(candidate)) throw new AsideError('not_found', `no task directory at '${p}' under the models root`);
  const real = fs.realpathSync(candidate);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw invalid(`path '${p}' escapes the models root`);
  return real;
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw invalid(`task directory has no manifest.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalid(`manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) throw invalid(`manifest.json does not match aside-task/1: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Checks a task's weights against its manifest and the graph it will run on, completely, before
 * anything is activated: every module input fed, nothing extra, shapes and dtypes right, values finite.
 */
export function validateModule(manifest: Manifest, dir: string, graph: GraphInfo, backboneSha256: string | undefined): { tensors: Record<string, RawTensor>; weightsSha256: string } {
  if (backboneSha256 && manifest.backbone.sha256 !== backboneSha256) {
    throw invalid(`task '${manifest.id}' was trained on backbone ${manifest.backbone.id} (sha256 ${manifest.backbone.sha256.slice(0, 12)}…), but this server runs sha256 ${backboneSha256.slice(0, 12)}…`);
  }
  const sig = signatureOfGraph(graph.inputs);
  if (sig !== manifest.graph.signature) throw invalid(`graph signature mismatch for '${manifest.graph.file}': manifest pins ${manifest.graph.signature.slice(0, 12)}…, the graph has ${sig.slice(0, 12)}…`);
  const wanted = new Map(moduleInputs(graph.inputs).map((i) => [i.name, i]));
  const declared = Object.keys(manifest.tensors);
  const missing = [...wanted.keys()].filter((n) => !(n in manifest.tensors));
  const extra = declared.filter((n) => !wanted.has(n));
  if (missing.length || extra.length) throw invalid(`manifest tensors do not match the graph inputs`, { missing, extra });
  const weightsFile = path.join(dir, manifest.weights);
  if (path.dirname(path.resolve(weightsFile)) !== path.resolve(dir)) throw invalid(`weights must be a file in the task directory`);
  if (!fs.existsSync(weightsFile)) throw invalid(`weights file '${manifest.weights}' is missing`);
  const bytes = fs.readFileSync(weightsFile);
  let file;
  try {
    file = readSafetensors(weightsFile, bytes);
  } catch (e) {
    throw invalid(`weights file is unreadable: ${(e as Error).message}`);
  }
  const out: Record<string, RawTensor> = {};
  for (const name of declared) {
    const spec = manifest.tensors[name];
    const t = file.get(name);
    if (!t) throw invalid(`tensor '${name}' is in the manifest but not in ${manifest.weights}`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) throw invalid(`tensor '${name}' has shape [${t.shape}] in the weights, [${spec.shape}] in the manifest`);
    const input = wanted.get(name)!;
    if (input.type !== 'float32') throw invalid(`graph input '${name}' is ${input.type}, expected float32`);
    if (input.shape.length !== t.shape.length || input.shape.some((d, i) => typeof d === 'number' && d > 0 && d !== t.shape[i])) throw invalid(`tensor '${name}' has shape [${t.shape}], the graph wants [${input.shape}]`);
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) throw invalid(`tensor '${name}' has a non-finite value at index ${i}`);
    out[name] = { dims: t.shape, data: t.data };
  }
  return { tensors: out, weightsSha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
