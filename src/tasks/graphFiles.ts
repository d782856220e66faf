import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AsideError } from '../errors';
import { GraphSource } from '../inference/graphSource';
import { graphsDir, templatesDir } from '../paths';
import { setting } from '../config';

/** `templates.json` beside a backbone's templates (written by training's aside_training.templates). */
const TemplateIndex = z.object({
  format: z.literal('aside-templates/1'),
  backbone: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  externalData: z.string(),
  graphs: z.record(
    z.string(),
    z.object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      bytes: z.number().int(),
      signature: z.string(),
      inputs: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.union([z.number(), z.string()])) })),
      outputs: z.array(z.string()),
    }),
  ),
});
type TemplateIndex = z.infer<typeof TemplateIndex>;

const indexes = new Map<string, TemplateIndex | undefined>();

function templateIndex(dir: string): TemplateIndex | undefined {
  if (!indexes.has(dir)) {
    const file = path.join(dir, 'templates.json');
    indexes.set(dir, fs.existsSync(file) ? TemplateIndex.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) : undefined);
  }
  return indexes.get(dir);
}

/** Where a manifest's `graph.file` is looked up, first match wins: an explicit ASIDE_GRAPHS_DIR, the committed templates, graphs built into .aside/graphs. */
export function graphSearchPath(): string[] {
  const dirs = [...(setting('graphsDir') ? [graphsDir()] : []), templatesDir(), graphsDir()];
  return [...new Set(dirs.map((d) => path.resolve(d)))];
}

/**
 * Resolves a manifest's graph file (`<backbone>/<kind>-<role>.onnx`) against the served backbone: a
 * template listed in its directory's templates.json binds to the backbone file (which must have the
 * sha256 the template was made against); any other file there is a full graph with its own weights.
 */
export function resolveGraph(file: string, backbone: { file: string; sha256: string | undefined }): GraphSource {
  if (!file.endsWith('.onnx') || path.isAbsolute(file)) throw new AsideError('validation', `graph file '${file}' must be a relative path to an .onnx file`);
  for (const dir of graphSearchPath()) {
    const abs = path.resolve(dir, file);
    if (!abs.startsWith(dir + path.sep)) throw new AsideError('validation', `graph file '${file}' escapes the graphs directory`);
    const index = templateIndex(path.dirname(abs));
    const entry = index?.graphs[path.basename(abs)];
    if (index && entry && fs.existsSync(abs)) {
      // Checked here too (the worker checks again when it binds): a corrupt template fails its task's load, not a request.
      const sha = crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
      if (sha !== entry.sha256) throw new AsideError('validation', `graph template '${file}' has sha256 ${sha.slice(0, 12)}…, its index says ${entry.sha256.slice(0, 12)}…`);
      if (backbone.sha256 !== index.sha256) {
        throw new AsideError(
          'validation',
          `graph template '${file}' references backbone sha256 ${index.sha256.slice(0, 12)}…, but this server runs ${backbone.sha256 ? `${backbone.sha256.slice(0, 12)}…` : 'an unchecksummed model'}`,
        );
      }
      return {
        template: abs,
        templateSha256: entry.sha256,
        externalPath: index.externalData,
        backboneFile: backbone.file,
        backboneSha256: index.sha256,
        io: { inputs: entry.inputs, outputs: entry.outputs },
      };
    }
    if (fs.existsSync(abs)) return abs;
  }
  throw new AsideError('validation', `graph '${file}' is neither a committed template nor a built graph`, { searched: graphSearchPath() });
}
