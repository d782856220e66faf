import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCollection } from '../data/beir';
import { resolveModel } from '../models/catalog';
import { openBaseEncoder } from '../inference/encoder';
import { openCorpus } from '../index/corpusIndex';
import { denseSearch, documentEmbedder } from '../search/dense';
import { score, Run } from '../eval/metrics';
import { asideHome } from '../paths';
import { progress } from '../util/progress';

export default async function evalCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      collection: { type: 'string' },
      model: { type: 'string' },
      split: { type: 'string', default: 'test' },
      ef: { type: 'string', default: '200' },
      out: { type: 'string' },
    },
  });
  if (!values.collection) throw new Error('--collection <BEIR dir> is required');
  const collection = await loadCollection(values.collection, values.split);
  const spec = resolveModel(values.model);
  const encoder = await openBaseEncoder(spec);
  const corpus = await openCorpus(collection, documentEmbedder(encoder, { model: spec.id, modelSha256: spec.modelSha256 ?? '', maxLength: String(spec.maxLength) }), { ef: Number(values.ef) });
  const run: Run = new Map();
  const bar = progress(`search ${collection.name}`, collection.queries.length, 'queries');
  const started = Date.now();
  for (const q of collection.queries) {
    // A query that is itself a corpus document (ArguAna) must not count itself as a hit (BEIR/MTEB).
    const hits = await denseSearch(encoder, corpus, q.text, 101, (id) => id !== q.id);
    run.set(q.id, hits.slice(0, 100).map((h) => h.id));
    bar.tick();
  }
  bar.stop();
  const result = {
    collection: collection.name,
    split: collection.split,
    model: spec.id,
    task: null,
    candidates: 'dense',
    ...score(run, collection.qrels),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    provider: encoder.info.provider,
    at: new Date().toISOString(),
  };
  const out = values.out ?? path.join(asideHome(), 'results', 'eval.jsonl');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.appendFileSync(out, JSON.stringify(result) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
}
