import crypto from 'node:crypto';
import fs from 'node:fs';

/**
 * What a session is opened from: an ONNX file that holds its weights, or a weight-free template
 * (docs/module-format.md) whose frozen weights are external-data references into the backbone's
 * model.onnx, bound to that file's bytes at load. Plain data: it crosses to worker threads.
 */
export type GraphSource = string | TemplateSource;

export interface TemplateSource {
  template: string;
  templateSha256: string;
  /** The location the template's external-data references name (`model.onnx`). */
  externalPath: string;
  /** The backbone file whose bytes the references point into, and the sha256 it must have. */
  backboneFile: string;
  backboneSha256: string;
  /** The template's inputs and outputs as its index records them: enough to validate a task without a session. */
  io?: { inputs: { name: string; type: string; shape: (number | string)[] }[]; outputs: string[] };
}

export function describeSource(source: GraphSource): string {
  return typeof source === 'string' ? source : source.template;
}

/** Files this thread has hashed, by identity and change time: a second graph bound to the same backbone skips the 90 MB hash. */
const verified = new Map<string, string>();

function readVerified(file: string, sha256: string, what: string): Buffer {
  const st = fs.statSync(file);
  const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const bytes = fs.readFileSync(file);
  if (verified.get(id) !== sha256) {
    const got = crypto.createHash('sha256').update(bytes).digest('hex');
    if (got !== sha256) throw new Error(`${what} ${file} has sha256 ${got.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…`);
    verified.set(id, sha256);
  }
  return bytes;
}

/**
 * The bytes onnxruntime needs for a template: the template itself and the backbone file, both checked
 * against their sha256 first (a reference is an offset, so wrong bytes would bind silently).
 */
export function templateBytes(t: TemplateSource): { model: Uint8Array; externalData: { path: string; data: Uint8Array }[] } {
  return {
    model: readVerified(t.template, t.templateSha256, 'graph template'),
    externalData: [{ path: t.externalPath, data: readVerified(t.backboneFile, t.backboneSha256, 'backbone') }],
  };
}
