import crypto from 'node:crypto';
import fs from 'node:fs';
import { Config } from './config';
import { Collection, Doc, loadCollection } from './data/beir';
import { TitledText } from './text/documentText';
import { InferenceBackend, InProcessBackend } from './inference/backend';
import { Encoder, openBaseEncoder, TextKind } from './inference/encoder';
import { defaultSessionOptions, SessionOptions } from './inference/session';
import { BatchLimits } from './inference/batchQueue';
import { documentEmbedder, openCorpus, SearchableCorpus } from './index/corpusIndex';
import { Hit } from './index/vectorIndex';
import { resolveModel, ModelSpec } from './models/catalog';
import { REPO_ROOT, SHIPPED_DEFAULT_TASKS, shippedTasksDir } from './paths';
import { QueryCache } from './search/queryCache';
import { Metrics } from './http/metrics';
import { Role, TaskRegistry, TaskVersion, BASE_TASK } from './tasks/registry';
import { log } from './log';

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The application: one backbone, the task registry on top of it, the served collection and its
 * per-task indexes, the query cache and the metrics. HTTP routes and the CLI both call this object,
 * so an evaluation measures exactly what the server serves.
 */
export class Aside {
  private readonly corpora = new Map<TaskVersion, Promise<SearchableCorpus>>();
  private readonly docsById: Map<string, Doc>;

  private constructor(
    readonly config: Config,
    readonly spec: ModelSpec,
    readonly backend: InferenceBackend,
    readonly registry: TaskRegistry,
    readonly base: Encoder,
    readonly metrics: Metrics,
    readonly cache: QueryCache,
    readonly collection: Collection | undefined,
  ) {
    this.docsById = new Map((collection?.docs ?? []).map((d) => [d.id, d]));
  }

  static async start(config: Config, opts: { backend?: InferenceBackend; session?: SessionOptions; collection?: Collection } = {}): Promise<Aside> {
    const spec = resolveModel(config.model);
    const session = opts.session ?? { ...defaultSessionOptions(), ...(config.threadsPerWorker > 0 ? { intraOpThreads: config.threadsPerWorker } : {}) };
    const backend = opts.backend ?? (await createBackend(config));
    const limits: BatchLimits = { maxBatch: config.maxBatch, maxBatchTokens: config.maxBatchTokens, maxWaitMs: config.maxWaitMs, maxQueue: config.maxQueue };
    const metrics = new Metrics();
    const base = await openBaseEncoder(spec, backend, session, limits, metrics.batchStats('base'));
    const sha256 = spec.modelSha256 ?? (await sha256File(spec.modelPath));
    const collection = opts.collection ?? (config.collection ? await loadCollection(config.collection) : undefined);
    let app: Aside | undefined;
    const registry = new TaskRegistry(backend, { spec, sha256, tokenizer: base.tokenizer, info: base.info }, {
      modelsRoot: config.tasksDir ?? REPO_ROOT,
      session,
      limits,
      stats: (task) => metrics.batchStats(task),
      hooks: {
        onSwap: (id) => metrics.swaps.inc({ task: id }),
        // A retriever whose index is in use gets its new index before it goes live: no query of the
        // new version ever meets document vectors of the old one.
        beforeActivate: async (next, prev) => {
          if (app && next.role === 'retriever' && prev && app.corpora.has(prev)) await app.corpusFor(next);
        },
        onRetire: (old) => app?.corpora.delete(old),
      },
    });
    registry.addBase(base);
    app = new Aside(config, spec, backend, registry, base, metrics, new QueryCache(config.cacheSize, config.cacheTtlMs, (hit) => metrics.cache.inc({ result: hit ? 'hit' : 'miss' })), collection);
    const tasksDir = config.tasksDir ? '.' : fs.existsSync(shippedTasksDir()) ? 'models/tasks' : undefined;
    if (tasksDir) {
      const { loaded, failed } = await registry.loadAll(tasksDir);
      log.info({ loaded, failed: failed.length }, 'tasks loaded');
    }
    try {
      chooseDefaults(registry, config, tasksDir === 'models/tasks');
    } catch (err) {
      await app.close();
      throw err;
    }
    metrics.tasksLoaded.set(registry.list().length);
    if (collection) await app.corpusFor(registry.get(registry.defaultId('retriever') ?? BASE_TASK));
    return app;
  }

  /** The served collection's index as embedded by this task version (built on first use, then reused). */
  corpusFor(task: TaskVersion): Promise<SearchableCorpus> {
    if (!this.collection) throw new Error('no collection is configured');
    let p = this.corpora.get(task);
    if (!p) {
      const fingerprint = { model: this.spec.id, modelSha256: this.spec.modelSha256 ?? '', task: task.id, taskVersion: task.version, weightsSha256: task.weightsSha256 ?? '', maxLength: String(task.encoder.target.maxLength.document) };
      p = openCorpus(this.collection, documentEmbedder(task.encoder, fingerprint), { ef: this.config.ef });
      p.catch(() => this.corpora.delete(task));
      this.corpora.set(task, p);
    }
    return p;
  }

  /** Size of this task's index of the served collection, if it has been built. */
  async indexSize(task: TaskVersion): Promise<number | undefined> {
    const p = this.corpora.get(task);
    return p ? (await p.catch(() => undefined))?.index.size : undefined;
  }

  /** One query's embedding by a task version, through the query cache. */
  private queryVector(t: TaskVersion, query: string): Promise<Float32Array> {
    return this.cache.get(t.id, t.activation, query, async () => (await t.encoder.embed([query], 'query'))[0]);
  }

  async embed(texts: string[], kind: TextKind, taskId?: string): Promise<{ task: TaskVersion; vectors: Float32Array[] }> {
    const lease = this.registry.acquire(taskId, 'retriever');
    try {
      const t = lease.task;
      const vectors = kind === 'query' && texts.length === 1 ? [await this.queryVector(t, texts[0])] : await t.encoder.embed(texts, kind);
      return { task: t, vectors };
    } finally {
      lease.release();
    }
  }

  async denseSearch(query: string, k: number, taskId?: string, filter?: (id: string) => boolean): Promise<{ task: TaskVersion; hits: Hit[] }> {
    if (!this.collection) throw new Error('no collection is configured');
    const lease = this.registry.acquire(taskId, 'retriever');
    try {
      const t = lease.task;
      const corpus = await this.corpusFor(t);
      const vec = await this.queryVector(t, query);
      return { task: t, hits: corpus.index.search(vec, k, filter) };
    } finally {
      lease.release();
    }
  }

  /** Raw re-ranker scores; titled documents are joined by the re-ranker's own text contract. */
  async rerank(query: string, documents: (string | TitledText)[], taskId?: string): Promise<{ task: TaskVersion; scores: number[] }> {
    const lease = this.registry.acquire(taskId, 'reranker');
    try {
      const enc = lease.task.encoder;
      return { task: lease.task, scores: await enc.score(query, documents.map((d) => (typeof d === 'string' ? d : enc.documentText(d)))) };
    } finally {
      lease.release();
    }
  }

  doc(id: string): Doc | undefined {
    return this.docsById.get(id);
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}

async function createBackend(config: Config): Promise<InferenceBackend> {
  if (config.workers > 0) {
    const { WorkerPoolBackend } = await import('./inference/workerPool');
    return new WorkerPoolBackend(config.workers);
  }
  return new InProcessBackend();
}

export type { Role };

/**
 * Without a setting, the default retriever is the bare backbone (`base`) and the default re-ranker the
 * first one loaded (directory order), or SHIPPED_DEFAULT_TASKS when the shipped directory is served.
 * A default that is set but not loaded stops the start: serving another task silently would be a
 * wrong answer.
 */
function chooseDefaults(registry: TaskRegistry, config: Config, shipped: boolean): void {
  const wanted: [Role, string | undefined, string][] = [
    ['retriever', config.defaultRetriever, SHIPPED_DEFAULT_TASKS.retriever],
    ['reranker', config.defaultReranker, SHIPPED_DEFAULT_TASKS.reranker],
  ];
  for (const [role, set, shippedId] of wanted) {
    if (set) {
      if (!registry.knownIds().includes(set)) throw new Error(`default ${role} '${set}' is not loaded (loaded: ${registry.knownIds().join(', ')})`);
      registry.setDefault(role, set);
    } else if (shipped && registry.knownIds().includes(shippedId)) {
      registry.setDefault(role, shippedId);
    }
  }
}
