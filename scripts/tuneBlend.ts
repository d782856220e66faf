/**
 * Chooses a re-ranker's default blend on train/dev queries (never test), from the hits file of one
 * `npm run eval -- --split train|dev --rerank TASK --blend false --hits-out FILE` run:
 *
 *   npx tsx scripts/tuneBlend.ts --collection DIR --split train --hits FILE [--queries ids.txt] [--stages bm25|dense,bm25]
 *
 * Grid over the first-stage weights (re-ranker weight 1); prints the best few and, last, one JSON line.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadCollection } from '../src/data/beir';
import { mean, perQueryNdcg, rankWith, readHits } from './lib/hitsFile';
import { BlendWeights } from '../src/tasks/rerankSettings';

async function main() {
  const { values } = parseArgs({
    options: { collection: { type: 'string' }, split: { type: 'string', default: 'train' }, hits: { type: 'string' }, queries: { type: 'string' }, stages: { type: 'string', default: 'bm25' } },
  });
  const col = await loadCollection(values.collection!, values.split);
  const only = values.queries ? new Set(fs.readFileSync(values.queries, 'utf8').split(/\s+/).filter(Boolean)) : undefined;
  const hits = readHits(values.hits!);
  const stages = values.stages!.split(',') as ('dense' | 'bm25')[];
  const grid = [0, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5];
  const combos: BlendWeights[] = [];
  for (const b of stages.includes('bm25') ? grid : [0])
    for (const d of stages.includes('dense') ? grid : [0]) combos.push({ rerank: 1, ...(stages.includes('bm25') ? { bm25: b } : {}), ...(stages.includes('dense') ? { dense: d } : {}) });
  const evalWith = (w?: BlendWeights) => mean(perQueryNdcg(new Map(hits.map((q) => [q.query, rankWith(q, w, stages)])), col.qrels, only).values());
  const results = combos.map((w) => ({ weights: w, ndcg: evalWith(w) })).sort((a, b) => b.ndcg - a.ndcg);
  const firstStage = stages.map((s) => ({ stage: s, ndcg: evalWith({ rerank: 0, [s]: 1 } as BlendWeights) }));
  for (const r of results.slice(0, 8)) process.stderr.write(`${JSON.stringify(r.weights)}  nDCG@10 ${r.ndcg.toFixed(4)}\n`);
  const best = results[0];
  const queries = perQueryNdcg(new Map(), col.qrels, only).size;
  process.stdout.write(
    JSON.stringify({ collection: col.name, split: values.split, queries, raw_rerank: evalWith({ rerank: 1 }), first_stage: firstStage, best: best.weights, best_ndcg: best.ndcg }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
