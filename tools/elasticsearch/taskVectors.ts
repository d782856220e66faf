import { Client } from '@elastic/elasticsearch';
import { Aside } from '../../src/aside';
import { loadConfig } from '../../src/config';
import { Collection } from '../../src/data/beir';
import { writeDenseVectors } from './denseVectors';
import { vectorFieldFor } from '../../src/search/sources/elasticsearch/knnCandidates';

/**
 * The scale-out path: embeds every document with a retriever task (the bare backbone by default) and
 * writes it into that task version's own dense_vector field, which `candidates: "elasticsearch-knn"`
 * then searches. One field per task version, so a new version never mixes with the old one's vectors.
 */
export async function writeTaskVectors(client: Client, collection: Collection, opts: { index: string; task?: string; model?: string }) {
  const app = await Aside.start(loadConfig({ model: opts.model, workers: 0 }));
  try {
    const lease = app.registry.acquire(opts.task, 'retriever');
    try {
      const task = lease.task;
      const field = vectorFieldFor({ id: task.id, version: task.version });
      const r = await writeDenseVectors(client, opts.index, collection.docs, (texts) => task.encoder.embed(texts, 'document'), { field, text: (d) => task.encoder.documentText(d) });
      return { index: opts.index, task: task.id, version: task.version, field: r.field, dims: r.dims, docs: r.written, retried: r.retried, ms: r.ms };
    } finally {
      lease.release();
    }
  } finally {
    await app.close();
  }
}
