/**
 * Writes a late-interaction re-ranker task that scores MaxSim over the token states of an existing
 * retriever task's module (its graph and a copy of its weights; a task directory may not reach
 * outside itself), with the shipped zero-shot task's scoring settings:
 *
 *   npx tsx scripts/lateInteractionTask.ts --from models/tasks/scifact-iaa-l-retriever --id scifact-iaa-l-late-interaction --out DIR
 *
 * It carries no default blend: a manifest's `blend` must say where its weights were tuned (`tunedOn`),
 * so pass the weights chosen on train/dev with scripts/tuneBlend.ts per request (`--blend` of the eval,
 * `rerank.blend` of /v1/search), or add the `blend` record by hand. Load the result with
 * `--tasks-dir` or `PUT /v1/tasks/:id`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../src/paths';
import { Manifest } from '../src/tasks/manifest';

function main(): void {
  const { values } = parseArgs({ options: { from: { type: 'string' }, id: { type: 'string' }, out: { type: 'string' } } });
  if (!values.from || !values.id || !values.out) throw new Error('usage: --from RETRIEVER_TASK_DIR --id ID --out DIR');
  const raw = JSON.parse(fs.readFileSync(path.join(values.from, 'manifest.json'), 'utf8'));
  const retriever = Manifest.parse(raw);
  if (retriever.role !== 'retriever' || !retriever.graph || !retriever.weights) throw new Error(`${values.from} is not a module retriever task`);
  const zeroShot = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'models', 'tasks', 'minilm-late-interaction', 'manifest.json'), 'utf8'));
  const manifest = {
    ...Object.fromEntries(['format', 'backbone', 'graph', 'text', 'prefixes', 'weights', 'tensors', 'weightsSha256', 'budget'].filter((k) => k in raw).map((k) => [k, raw[k]])),
    id: values.id,
    version: '1',
    description: `Late interaction (MaxSim over unit-length token states) through the module of ${retriever.id}@${retriever.version}`,
    role: 'reranker',
    kind: 'late-interaction',
    pooling: 'none',
    normalize: false,
    maxLength: {},
    lateInteraction: zeroShot.lateInteraction,
  };
  Manifest.parse(manifest); // the server's own schema: fail here, not at load
  const dir = path.join(values.out, values.id);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(values.from, retriever.weights), path.join(dir, retriever.weights));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  process.stdout.write(`wrote ${dir}\n`);
}

main();
