/**
 * Paired randomisation test of nDCG@10 between two `eval --hits-out` files on the same queries
 * (e.g. candidates alone vs re-ranked), optionally re-blending B:
 *
 *   npx tsx scripts/compareRuns.ts --collection DIR [--split test] --a A.jsonl [--a-blend W] --b B.jsonl [--blend W] [--stages bm25]
 *
 * A blend re-orders a file's hits by its recorded stage scores: `--a-blend rerank=0,bm25=1` is the
 * BM25 candidates' own order, `--blend rerank=1,bm25=0.3` a blend that eval would serve.
 */
import { parseArgs } from 'node:util';
import { loadCollection } from '../src/data/beir';
import { mean, pairedRandomization, perQueryNdcg, rankWith, readHits } from './lib/hitsFile';
import { parseBlendFlag } from '../src/rerank/evalFlags';

async function main() {
  const { values } = parseArgs({
    options: {
      collection: { type: 'string' },
      split: { type: 'string', default: 'test' },
      a: { type: 'string' },
      b: { type: 'string' },
      blend: { type: 'string' },
      'a-blend': { type: 'string' },
      stages: { type: 'string', default: 'bm25' },
    },
  });
  const col = await loadCollection(values.collection!, values.split);
  const stages = values.stages!.split(',') as ('dense' | 'bm25')[];
  const weights = values.blend ? parseBlendFlag(values.blend) || undefined : undefined;
  const aWeights = values['a-blend'] ? parseBlendFlag(values['a-blend']) || undefined : undefined;
  const a = perQueryNdcg(new Map(readHits(values.a!).map((q) => [q.query, rankWith(q, aWeights, stages)])), col.qrels);
  const b = perQueryNdcg(new Map(readHits(values.b!).map((q) => [q.query, rankWith(q, weights, stages)])), col.qrels);
  const t = pairedRandomization(a, b);
  process.stdout.write(
    JSON.stringify({
      collection: col.name,
      split: values.split,
      a: values.a,
      a_blend: aWeights ?? null,
      b: values.b,
      blend: weights ?? null,
      ndcg_a: +mean(a.values()).toFixed(4),
      ndcg_b: +mean(b.values()).toFixed(4),
      diff: +t.diff.toFixed(4),
      p: +t.p.toFixed(4),
      queries: t.queries,
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
