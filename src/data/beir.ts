import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { badRequest } from '../errors';

export interface Doc {
  id: string;
  title: string;
  text: string;
}

export interface Query {
  id: string;
  text: string;
}

/** query id → (doc id → graded relevance). */
export type Qrels = Map<string, Map<string, number>>;

export interface Collection {
  name: string;
  dir: string;
  docs: Doc[];
  queries: Query[];
  qrels: Qrels;
  split: string;
}

async function readJsonl<T>(file: string, map: (o: Record<string, unknown>) => T): Promise<T[]> {
  const out: T[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) out.push(map(JSON.parse(line)));
  return out;
}

export function readQrels(file: string): Qrels {
  const qrels: Qrels = new Map();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (const line of lines) {
    const [q, d, s] = line.trim().split('\t');
    if (!q || !d || s === undefined || q === 'query-id') continue;
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)!.set(d, Number(s));
  }
  return qrels;
}

/** Loads a BEIR-layout collection; queries are restricted to those judged in the split. */
export async function loadCollection(dir: string, split = 'test'): Promise<Collection> {
  const abs = path.resolve(dir);
  const qrelsFile = path.join(abs, 'qrels', `${split}.tsv`);
  for (const f of ['corpus.jsonl', 'queries.jsonl']) {
    if (!fs.existsSync(path.join(abs, f))) throw badRequest(`${abs} is not a BEIR collection: ${f} is missing`);
  }
  if (!fs.existsSync(qrelsFile)) throw badRequest(`${abs} has no qrels/${split}.tsv`);
  const docs = await readJsonl(path.join(abs, 'corpus.jsonl'), (o) => ({ id: String(o._id), title: String(o.title ?? ''), text: String(o.text ?? '') }));
  const qrels = readQrels(qrelsFile);
  const queries = (await readJsonl(path.join(abs, 'queries.jsonl'), (o) => ({ id: String(o._id), text: String(o.text ?? '') }))).filter((q) => qrels.has(q.id));
  return { name: path.basename(abs), dir: abs, docs, queries, qrels, split };
}
