import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { catalogPath, modelsDir } from '../paths';
import { AsideError, notFound } from '../errors';
import { BEIR_TEXT, TextContract } from '../text/documentText';

const FileSpec = z.object({ entry: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().positive() });
const Pooling = z.enum(['mean', 'cls']);
const Prefixes = z.object({ query: z.string(), document: z.string() });

export const CatalogEntry = z.object({
  id: z.string(),
  huggingFace: z.string(),
  maven: z.string(),
  files: z.object({ model: FileSpec, tokenizer: FileSpec }),
  dims: z.number().int().positive(),
  pooling: Pooling,
  normalize: z.boolean(),
  maxLength: z.number().int().positive(),
  prefixes: Prefixes,
  // How documents are joined for this backbone when no task says otherwise (BEIR/MTEB: a space).
  titleSeparator: z.string().default(' '),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

const Catalog = z.object({ default: z.string(), models: z.array(CatalogEntry) });
export type Catalog = z.infer<typeof Catalog>;

export type PoolingMode = z.infer<typeof Pooling>;

/** Everything the encoder needs to run a backbone, whichever way it was found. */
export interface ModelSpec {
  id: string;
  modelPath: string;
  tokenizerPath: string;
  /** sha256 of the ONNX file: task modules name the backbone they were trained on by this. */
  modelSha256?: string;
  pooling: PoolingMode;
  normalize: boolean;
  maxLength: number;
  prefixes: { query: string; document: string };
  text: TextContract;
}

let cached: Catalog | undefined;
export function loadCatalog(): Catalog {
  cached ??= Catalog.parse(JSON.parse(fs.readFileSync(catalogPath(), 'utf8')));
  return cached;
}

export function catalogEntry(id: string): CatalogEntry {
  const cat = loadCatalog();
  const entry = cat.models.find((m) => m.id === id);
  if (!entry) throw notFound(`unknown model '${id}'`, { known: cat.models.map((m) => m.id) });
  return entry;
}

/** Where the fetch command places a catalog entry's files. */
export function catalogModelDir(id: string): string {
  return path.join(modelsDir(), id);
}

function fromCatalog(entry: CatalogEntry): ModelSpec {
  const dir = catalogModelDir(entry.id);
  const spec: ModelSpec = {
    id: entry.id,
    modelPath: path.join(dir, 'model.onnx'),
    tokenizerPath: path.join(dir, 'tokenizer.json'),
    modelSha256: entry.files.model.sha256,
    pooling: entry.pooling,
    normalize: entry.normalize,
    maxLength: entry.maxLength,
    prefixes: entry.prefixes,
    text: { titleSeparator: entry.titleSeparator },
  };
  if (!fs.existsSync(spec.modelPath) || !fs.existsSync(spec.tokenizerPath)) {
    throw new AsideError('not_found', `model '${entry.id}' is not fetched yet: run \`npm run models:fetch -- ${entry.id}\``);
  }
  return spec;
}

function readJsonIfExists(file: string): Record<string, unknown> | undefined {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

/**
 * A local Hugging Face model directory: model.onnx (or onnx/model.onnx) + tokenizer.json. Pooling and
 * max length come from the sentence-transformers files when present (1_Pooling/config.json,
 * sentence_bert_config.json); an `aside.json` beside them may override any field of the spec.
 */
function fromDirectory(dir: string): ModelSpec {
  const modelPath = [path.join(dir, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx')].find((p) => fs.existsSync(p));
  const tokenizerPath = path.join(dir, 'tokenizer.json');
  if (!modelPath || !fs.existsSync(tokenizerPath)) {
    throw new AsideError('validation', `model directory '${dir}' needs model.onnx (or onnx/model.onnx) and tokenizer.json`);
  }
  const pool = readJsonIfExists(path.join(dir, '1_Pooling', 'config.json'));
  const st = readJsonIfExists(path.join(dir, 'sentence_bert_config.json'));
  const overrides = readJsonIfExists(path.join(dir, 'aside.json')) ?? {};
  return {
    id: path.basename(dir),
    modelPath,
    tokenizerPath,
    pooling: pool?.pooling_mode_cls_token ? 'cls' : 'mean',
    normalize: true,
    maxLength: typeof st?.max_seq_length === 'number' ? st.max_seq_length : 512,
    prefixes: { query: '', document: '' },
    text: BEIR_TEXT,
    ...(overrides as Partial<ModelSpec>),
  };
}

/** A model reference is a catalog id or a path to a local Hugging Face model directory. */
export function resolveModel(ref?: string): ModelSpec {
  const id = ref ?? loadCatalog().default;
  if (id.includes('/') || id.startsWith('.')) {
    if (!fs.existsSync(id)) throw notFound(`model directory '${id}' does not exist`);
    return fromDirectory(path.resolve(id));
  }
  return fromCatalog(catalogEntry(id));
}
