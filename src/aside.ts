import fs from 'node:fs';
import { Config } from './config';
import { Collection, Doc, loadCollection } from './data/beir';
import { TitledText } from './text/documentText';
import { InferenceBackend, InProcessBackend } from './inference/backend';
import { Encoder, openBaseEncoder, TextKind } from './inference/encoder';
import { defaultSessionOptions, SessionOptions } from './inference/session';
import { BatchLimits } from './inference/batchQueue';
import { SearchableCorpus } from './index/corpusIndex';
import { TaskIndexes } from './index/taskIndexes';
import { Hit } from './index/vectorIndex';
import { resolveModel, ModelSpec } from './models/catalog';
import { verifyModelFile } from './models/verifyFiles';
import { REPO_ROOT, SHIPPED_DEFAULT_TASKS, shippedTasksDir } from './paths';
import { QueryCache } from './inference/queryCache';
import { Metrics } from './observability/metrics';
import { registerSchedulerMetrics } from './observability/schedulerMetrics';
import { mixesTasks, schedulerFor } from './inference/scheduler';
import { Role, TaskRegistry, TaskVersion, BASE_TASK } from './tasks/registry';
import { TaskPersistence } from './tasks/taskPersistence';
import { log } from './log';
import { AsideError } from './errors';
import { LateInteraction } from './rerank/lateInteraction';
import { MaxSimKernel } from './rerank/maxsimKernel';
import { LATE_INTERACTION } from './tasks/manifest';

export interface StartOptions {
  backend?: InferenceBackend;
  session?: SessionOptions;
  /** An already loaded collection to serve (instead of config.collection). */
  collection?: Collection;
  /** false: build no index or token store at start (eval builds what its run needs). */
  indexAtStart?: boolean;
}

/**
 * The application: one backbone, the task registry on top of it, the served collection and its
 * per-task indexes, the query cache and the metrics. HTTP routes and the CLI both call this object,
 * so an evaluation measures exactly what the server serves.
 */
export class Aside {
  private readonly docsById: Map<string, Doc>;

  private constructor(
    readonly config: Config,
    readonly spec: ModelSpec,
    /** sha256 of the backbone file actually served (verified against the catalog's pin at start): keys indexes. */
    readonly modelSha256: string,
    readonly backend: InferenceBackend,
    readonly registry: TaskRegistry,
    readonly base: Encoder,
    readonly metrics: Metrics,
    readonly cache: QueryCache,
    private readonly indexes: TaskIndexes | undefined,
    private readonly persistence: TaskPersistence,
    readonly late: LateInteraction,
  ) {
    this.docsById = new Map((indexes?.collection.docs ?? []).map((d) => [d.id, d]));
  }

  static async start(config: Config, opts: StartOptions = {}): Promise<Aside> {
    const spec = resolveModel(config.model);
    const session = opts.session ?? { ...defaultSessionOptions(), ...(config.threadsPerWorker > 0 ? { intraOpThreads: config.threadsPerWorker } : {}) };
    const backend = opts.backend ?? (await createBackend(config));
    const limits: BatchLimits = { maxBatch: config.maxBatch, maxBatchTokens: config.maxBatchTokens, maxWaitMs: config.maxWaitMs, maxQueue: config.maxQueue };
    const metrics = new Metrics();
    const sha256 = await verifyModelFile(spec.modelPath, spec.modelSha256, 'backbone').catch(async (err) => {
      await backend.close();
      throw err;
    });
    registerSchedulerMetrics(metrics.registry, schedulerFor(backend, limits));
    const base = await openBaseEncoder(spec, backend, session, limits, metrics.batchStats('base'));
    // Decided once the provider is known (a cuda request may have fallen back to the CPU), before any task loads.
    limits.mixTasks = mixesTasks(config.mixedBatches, base.info.provider);
    const collection = opts.collection ?? (config.collection ? await loadCollection(config.collection) : undefined);
    const indexes = collection ? new TaskIndexes(collection, spec, sha256, config.ef) : undefined;
    const registry = new TaskRegistry(
      backend,
      { spec, sha256, tokenizer: base.tokenizer, info: base.info },
      {
        modelsRoot: config.tasksDir ?? REPO_ROOT,
        session,
        limits,
        stats: (task) => metrics.batchStats(task),
        hooks: {
          onSwap: (id) => metrics.swaps.inc({ task: id }),
          // A retriever whose index is in use gets its new index before it goes live: no query of the
          // new version ever meets document vectors of the old one.
          beforeActivate: async (next, prev) => {
            if (indexes && next.role === 'retriever' && prev && indexes.has(prev)) await indexes.of(next);
          },
          onRetire: (old) => indexes?.retire(old),
          onChange: async (id, next) => persistence?.onChange(id, next),
        },
      },
    );
    registry.addBase(base);
    const persistence: TaskPersistence = new TaskPersistence(registry);
    const late = new LateInteraction(await MaxSimKernel.open(), collection);
    const app = new Aside(
      config,
      spec,
      sha256,
      backend,
      registry,
      base,
      metrics,
      new QueryCache(config.cacheSize, config.cacheTtlMs, (hit) => metrics.cache.inc({ result: hit ? 'hit' : 'miss' })),
      indexes,
      persistence,
      late,
    );
    persistence.prepare();
    const tasksDir = config.tasksDir ? '.' : fs.existsSync(shippedTasksDir()) ? 'models/tasks' : undefined;
    if (tasksDir) {
      const { loaded, failed } = await registry.loadAll(tasksDir);
      log.info({ loaded, failed: failed.length }, 'tasks loaded');
    }
    await persistence.restore([config.defaultRetriever, config.defaultReranker]);
    try {
      chooseDefaults(registry, config, tasksDir === 'models/tasks');
    } catch (err) {
      await app.close();
      throw err;
    }
    metrics.tasksLoaded.set(registry.list().length);
    if (collection && opts.indexAtStart !== false) await app.corpusFor(registry.get(registry.defaultId('retriever') ?? BASE_TASK));
    // Index time for the default late-interaction re-ranker too: its token states of the collection.
    const reranker = registry.defaultId('reranker');
    if (collection && opts.indexAtStart !== false && reranker && registry.get(reranker).kind === LATE_INTERACTION) await late.storeFor(registry.get(reranker));
    return app;
  }

  /** The served collection's index as embedded by this task version (built on first use, then reused). */
  corpusFor(task: TaskVersion): Promise<SearchableCorpus> {
    if (!this.indexes) throw noCollection();
    return this.indexes.of(task);
  }

  /** Size of this task's index of the served collection, if it has been built. */
  indexSize(task: TaskVersion): Promise<number | undefined> {
    return this.indexes?.size(task) ?? Promise.resolve(undefined);
  }

  /** Whether PUT / DELETE of tasks survive a restart, and where they are recorded. */
  restartNote() {
    return this.persistence.describe();
  }

  /** The served collection, if any. */
  get collection(): Collection | undefined {
    return this.indexes?.collection;
  }

  /** One query's embedding by a task version, through the query cache. */
  private queryVector(t: TaskVersion, query: string): Promise<Float32Array> {
    return this.cache.get(t.id, t.activation, query, async () => (await t.encoder.embed([query], 'query'))[0]);
  }

  async embed(inputs: (string | TitledText)[], kind: TextKind, taskId?: string): Promise<{ task: TaskVersion; vectors: Float32Array[] }> {
    const lease = this.registry.acquire(taskId, 'retriever');
    try {
      const t = lease.task;
      // A titled document is joined by the task's own text contract.
      const texts = inputs.map((d) => (typeof d === 'string' ? d : t.encoder.documentText(d)));
      const vectors = kind === 'query' && texts.length === 1 ? [await this.queryVector(t, texts[0])] : await t.encoder.embed(texts, kind);
      return { task: t, vectors };
    } finally {
      lease.release();
    }
  }

  async denseSearch(query: string, k: number, taskId?: string, filter?: (id: string) => boolean): Promise<{ task: TaskVersion; hits: Hit[] }> {
    if (!this.collection) throw noCollection();
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

  /**
   * Raw re-ranker scores. Titled documents are joined by the re-ranker's own text contract; a document
   * of the served collection (it has an `id`) lets late interaction read its stored token states.
   */
  async rerank(query: string, documents: (string | (TitledText & { id?: string }))[], taskId?: string): Promise<{ task: TaskVersion; scores: number[] }> {
    const lease = this.registry.acquire(taskId, 'reranker');
    try {
      const t = lease.task;
      const enc = t.encoder;
      const texts = documents.map((d) => (typeof d === 'string' ? d : enc.documentText(d)));
      const scores =
        t.kind === LATE_INTERACTION
          ? await this.late.score(
              t,
              query,
              documents.map((d, i) => ({ id: typeof d === 'string' ? undefined : d.id, text: texts[i] })),
            )
          : await enc.score(query, texts);
      return { task: t, scores };
    } finally {
      lease.release();
    }
  }

  doc(id: string): Doc | undefined {
    return this.docsById.get(id);
  }

  async close(): Promise<void> {
    await this.late.close();
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

const noCollection = () => new AsideError('unavailable', 'no collection is served: start with --collection <BEIR dir> (or ASIDE_COLLECTION) for dense candidates');
