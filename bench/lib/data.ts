import fs from 'node:fs';
import path from 'node:path';
import { loadCollection } from '../../src/data/beir';
import { BEIR_TEXT, joinDocument } from '../../src/text/documentText';
import { demoCollectionDir, REPO_ROOT } from '../../src/paths';

/** Full SciFact when the shared datasets are there, else the demo subset that ships with the repo. */
export const SCIFACT =
  [process.env.ASIDE_BENCH_SCIFACT, path.resolve(REPO_ROOT, '..', 'shared', 'datasets', 'scifact'), '/work/shared/datasets/scifact'].find((d) => d && fs.existsSync(path.join(d, 'corpus.jsonl'))) ??
  demoCollectionDir();

function readJsonl(file: string, limit = Infinity): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (out.length >= limit) break;
    if (line.trim()) out.push(JSON.parse(line));
  }
  return out;
}

/** Real query texts (all SciFact queries, in file order). */
export function queries(limit = Infinity): string[] {
  return readJsonl(path.join(SCIFACT, 'queries.jsonl'), limit).map((q) => q.text);
}

/** Real document texts (title + text, as Aside indexes them), in file order. */
export function documents(limit = Infinity): { id: string; text: string }[] {
  return readJsonl(path.join(SCIFACT, 'corpus.jsonl'), limit).map((d) => ({ id: d._id, text: joinDocument({ title: d.title, text: d.text }, BEIR_TEXT) }));
}

/**
 * The collection the HTTP scenarios serve: the demo collection (400 docs) or, for smoke runs, a BEIR
 * directory with its first `limit` documents. Returns the directory and the docs as Aside indexes them.
 */
export async function servedCollection(tmp: string, limit?: number): Promise<{ dir: string; docs: { id: string; text: string }[] }> {
  let dir = demoCollectionDir();
  if (limit) {
    dir = path.join(tmp, `mini-${limit}`);
    fs.mkdirSync(path.join(dir, 'qrels'), { recursive: true });
    const src = demoCollectionDir();
    fs.writeFileSync(path.join(dir, 'corpus.jsonl'), fs.readFileSync(path.join(src, 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, limit).join('\n') + '\n');
    fs.copyFileSync(path.join(src, 'queries.jsonl'), path.join(dir, 'queries.jsonl'));
    fs.copyFileSync(path.join(src, 'qrels', 'test.tsv'), path.join(dir, 'qrels', 'test.tsv'));
  }
  const c = await loadCollection(dir);
  return { dir, docs: c.docs.map((d) => ({ id: d.id, text: joinDocument(d, BEIR_TEXT) })) };
}
