/**
 * Regenerates demo/scifact-mini from the full SciFact collection: the first 60 test queries with
 * judgements, every document they judge, and seeded random other documents up to 400 in all.
 * Usage: tsx scripts/makeDemoCollection.ts <scifact dir> [out dir]
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadCollection } from '../src/data/beir';

async function main(): Promise<void> {
  const [src, out = 'demo/scifact-mini'] = process.argv.slice(2);
  if (!src) throw new Error('usage: tsx scripts/makeDemoCollection.ts <scifact dir> [out dir]');
  const c = await loadCollection(src, 'test');
  const queries = c.queries.slice(0, 60);
  const keep = new Set<string>();
  for (const q of queries) for (const d of c.qrels.get(q.id)!.keys()) keep.add(d);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const others = c.docs.filter((d) => !keep.has(d.id));
  while (keep.size < 400) keep.add(others[Math.floor(rand() * others.length)].id);
  const docs = c.docs.filter((d) => keep.has(d.id));
  fs.mkdirSync(path.join(out, 'qrels'), { recursive: true });
  fs.writeFileSync(path.join(out, 'corpus.jsonl'), docs.map((d) => JSON.stringify({ _id: d.id, title: d.title, text: d.text })).join('\n') + '\n');
  fs.writeFileSync(path.join(out, 'queries.jsonl'), queries.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n') + '\n');
  const rows = queries.flatMap((q) => [...c.qrels.get(q.id)!].map(([d, s]) => `${q.id}\t${d}\t${s}`));
  fs.writeFileSync(path.join(out, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...rows].join('\n') + '\n');
  process.stderr.write(`wrote ${docs.length} docs, ${queries.length} queries to ${out}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
