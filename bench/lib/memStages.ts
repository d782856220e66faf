/**
 * Child process for scenario 10 (memory): builds the server's state step by step in one process and
 * prints one JSON line per step, {step, rss_mb, peak_mb}, read from /proc/self/status (VmRSS, VmHWM).
 * The memory settings (ASIDE_CPU_ARENA, ASIDE_MEM_PATTERN, ASIDE_LAZY_SESSIONS, ASIDE_WORKERS) come
 * from the environment, so each variant runs in a fresh process.
 *
 *   memStages.ts COLLECTION_DIR SECONDS
 */
import fs from 'node:fs';
import path from 'node:path';
import { Aside } from '../../src/aside';
import { loadConfig } from '../../src/config';
import { loadCollection } from '../../src/data/beir';
import { WorkerPoolBackend } from '../../src/inference/workerPool';
import { InProcessBackend } from '../../src/inference/backend';
import { REPO_ROOT } from '../../src/paths';
import { documents, queries } from './data';

function status(): { rss_mb: number; peak_mb: number } {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]);
  return { rss_mb: Math.round(kb('VmRSS') / 1024), peak_mb: Math.round(kb('VmHWM') / 1024) };
}

async function step(name: string): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  process.stdout.write(JSON.stringify({ step: name, ...status() }) + '\n');
}

/** `clients` closed loops calling `call` until `seconds` have passed; returns the calls made. */
async function loop(clients: number, seconds: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < end) await call(n++);
    }),
  );
  return n;
}

async function main(): Promise<void> {
  const [collectionDir, secondsArg] = process.argv.slice(2);
  const seconds = Number(secondsArg ?? 10);
  await step('node + server code');
  // Tasks are loaded below, one step later: the models root is models/, whose top level holds no task.
  const config = loadConfig({ port: 0, tasksDir: path.join(REPO_ROOT, 'models'), cacheSize: 0 });
  const backend = config.workers > 0 ? new WorkerPoolBackend(config.workers) : new InProcessBackend();
  await backend.unloadModule('none'); // every worker has started and answered
  await step(`${config.workers} inference workers`);
  const collection = await loadCollection(collectionDir);
  const app = await Aside.start(config, { backend });
  await step('bare backbone graph (tokenizer, sessions, probe)');
  for (const d of fs.readdirSync(path.join(REPO_ROOT, 'models', 'tasks')).sort()) await app.registry.load(path.join('tasks', d));
  await step(`shipped tasks loaded (${app.registry.list().length - 1})`);
  const { openCorpus, documentEmbedder } = await import('../../src/index/corpusIndex');
  const corpus = await openCorpus(collection, documentEmbedder(app.base, { probe: 'memStages', model: app.spec.id }), { rebuild: true });
  await step(`index of ${collection.docs.length} documents (embedding + HNSW)`);
  const qs = queries();
  const searches = await loop(32, seconds, async (i) => corpus.index.search((await app.base.embed([qs[i % qs.length]], 'query'))[0], 10));
  await step(`s1 load: 32 clients searching with base (${searches} searches)`);
  const docs = documents(2000).map((d) => d.text);
  await app.embed(docs.slice(0, 256), 'document');
  await step('embed 256 documents (≤256 tokens each)');
  const reranks = await loop(2, seconds, (i) =>
    app.rerank(
      qs[i % qs.length],
      Array.from({ length: 100 }, (_, j) => docs[(i * 100 + j) % docs.length]),
    ),
  );
  await step(`re-rank load: 2 clients × 100 documents (${reranks} requests)`);
  await app.close();
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
