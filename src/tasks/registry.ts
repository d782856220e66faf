import fs from 'node:fs';
import path from 'node:path';
import { AsideError, notFound } from '../errors';
import { Encoder, EncoderInfo, EncoderTarget } from '../inference/encoder';
import { InferenceBackend } from '../inference/backend';
import { SessionOptions } from '../inference/session';
import { BatchLimits, BatchStats } from '../inference/batchQueue';
import { ModelSpec } from '../models/catalog';
import { TextTokenizer } from '../text/tokenizer';
import { verifyModelFile } from '../models/verifyFiles';
import { log } from '../log';
import { Manifest, poolingOf } from './manifest';
import { readManifest, readWeights, validateModule } from './validateTask';
import { resolveTaskDir } from './taskFiles';
import { isUploadDir } from './uploadDirs';
import { checkGraphOutputs, probeEncoder } from './probeTask';
import { resolveGraph } from './graphFiles';
import { loadStackedVariant } from './stackedVariant';

export type Role = 'retriever' | 'reranker';

/** One loaded version of a task. Immutable once active; a swap makes a new one. */
export interface TaskVersion {
  id: string;
  version: string;
  role: Role;
  kind: string;
  encoder: Encoder;
  manifest?: Manifest;
  dir?: string;
  loadedAt: string;
  /** Unique per activation (a re-load of the same version string gets a new one): keys caches. */
  activation: string;
  /** sha256 of the module weights: keys persisted indexes, so equal weights share an index. */
  weightsSha256?: string;
  /** Requests currently running on this version. */
  inflight: number;
}

export interface Lease {
  task: TaskVersion;
  release(): void;
}

export interface RegistryHooks {
  onSwap?(id: string, from: string | undefined, to: string): void;
  /** Called before a retriever version goes live, so bound indexes can be rebuilt for it. */
  beforeActivate?(next: TaskVersion, previous: TaskVersion | undefined): Promise<void>;
  onRetire?(old: TaskVersion): void;
  /** After a task's active version changed (undefined: unloaded), in the order the changes happened. */
  onChange?(id: string, next: TaskVersion | undefined): Promise<void>;
}

export const BASE_TASK = 'base';

/**
 * Every task the server can answer with: the bare backbone ('base') and any number of module tasks.
 * Loads validate completely before activation; activation is one map assignment, so requests that
 * leased version N finish on N while later ones get N+1; N's module is freed once its leases drain.
 */
export class TaskRegistry {
  private readonly active = new Map<string, TaskVersion>();
  private readonly defaults: Partial<Record<Role, string>> = {};
  private readonly drains = new Map<TaskVersion, () => void>();
  /** Per task id, the tail of its queue of loads and unloads: they run one at a time, in arrival order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private seq = 0;
  swaps = 0;

  constructor(
    private readonly backend: InferenceBackend,
    private readonly backbone: { spec: ModelSpec; sha256?: string; tokenizer: TextTokenizer; info: EncoderInfo },
    private readonly opts: { modelsRoot: string; session: SessionOptions; limits: BatchLimits; stats?: (taskId: string) => BatchStats; hooks?: RegistryHooks },
  ) {
    this.realRoot = fs.realpathSync(opts.modelsRoot);
  }

  /** The models root by real path: task directories are compared against it. */
  private readonly realRoot: string;

  get modelsRoot(): string {
    return this.opts.modelsRoot;
  }

  /** A task directory as a path relative to the models root (what PUT takes and the record keeps). */
  relativeDir(dir: string): string {
    return path.relative(this.realRoot, dir);
  }

  get realModelsRoot(): string {
    return this.realRoot;
  }

  addBase(encoder: Encoder): void {
    this.active.set(BASE_TASK, { id: BASE_TASK, version: this.backbone.spec.id, role: 'retriever', kind: 'backbone', encoder, loadedAt: new Date().toISOString(), activation: BASE_TASK, inflight: 0 });
    this.defaults.retriever ??= BASE_TASK;
  }

  list(): TaskVersion[] {
    return [...this.active.values()];
  }

  knownIds(): string[] {
    return [...this.active.keys()];
  }

  setDefault(role: Role, id: string): void {
    const t = this.get(id);
    if (t.role !== role) throw new AsideError('validation', `task '${id}' is a ${t.role}, not a ${role}`);
    this.defaults[role] = id;
  }

  defaultId(role: Role): string | undefined {
    return this.defaults[role];
  }

  get(id: string): TaskVersion {
    const t = this.active.get(id);
    if (!t) throw notFound(`unknown task '${id}'`, { known: this.knownIds() });
    return t;
  }

  /** Pins the current version of a task for the length of one request. */
  acquire(id: string | undefined, role: Role): Lease {
    const name = id ?? this.defaults[role];
    if (!name) throw notFound(`no ${role} task is loaded`, { known: this.knownIds() });
    const task = this.get(name);
    if (task.role !== role)
      throw new AsideError('validation', `task '${name}' is a ${task.role}; this endpoint needs a ${role}`, {
        known: this.list()
          .filter((t) => t.role === role)
          .map((t) => t.id),
      });
    task.inflight++;
    let released = false;
    return {
      task,
      release: () => {
        if (released) return;
        released = true;
        task.inflight--;
        if (task.inflight === 0) this.drains.get(task)?.();
      },
    };
  }

  /** Runs `job` after every earlier load or unload of task `id` has finished. */
  private serial<T>(id: string, job: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).catch(() => undefined).then(job);
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  /**
   * Loads (or replaces) the task in `relDir`, a path relative to the models root (or a function that
   * produces one, e.g. by unpacking an upload). With `expectedId` the load queues at once behind
   * other loads and unloads of that task, so a DELETE sent while it runs applies after it.
   */
  load(relDir: string | (() => Promise<string>), expectedId?: string): Promise<TaskVersion> {
    const run = async () => {
      const rel = typeof relDir === 'string' ? relDir : await relDir();
      const dir = await resolveTaskDir(this.opts.modelsRoot, rel);
      const manifest = await readManifest(this.opts.modelsRoot, dir);
      if (expectedId !== undefined && manifest.id !== expectedId) throw new AsideError('conflict', `the manifest at '${rel}' is task '${manifest.id}', not '${expectedId}'`);
      if (manifest.id === BASE_TASK) throw new AsideError('validation', `'${BASE_TASK}' is reserved for the bare backbone`);
      return { manifest, dir };
    };
    if (expectedId !== undefined)
      return this.serial(expectedId, async () => {
        const { manifest, dir } = await run();
        return this.activate(manifest, dir);
      });
    return run().then(({ manifest, dir }) => this.serial(manifest.id, () => this.activate(manifest, dir)));
  }

  /** Loads a module task's graph and weights; a late-interaction task without a graph runs on the bare backbone's. */
  private async bind(manifest: Manifest, dir: string): Promise<{ graphKey: string; moduleKey?: string; provider: EncoderInfo['provider']; weightsSha256?: string; mix?: EncoderTarget['mix'] }> {
    if (!manifest.graph) {
      if (this.backbone.sha256 && manifest.backbone.sha256 !== this.backbone.sha256)
        throw new AsideError('validation', `task '${manifest.id}' is for backbone ${manifest.backbone.id} (sha256 ${manifest.backbone.sha256.slice(0, 12)}…), not the one this server runs`);
      return { graphKey: this.get(BASE_TASK).encoder.target.graph, provider: this.backbone.info.provider };
    }
    const backbone = { file: this.backbone.spec.modelPath, sha256: this.backbone.sha256 };
    const graph = resolveGraph(manifest.graph.file, backbone);
    const graphKey = `graph:${manifest.graph.file}`;
    // A template's bytes are checked against its index (and the backbone's when bound); a full graph is pinned at first use.
    if (typeof graph === 'string') await verifyModelFile(graph, undefined, 'task graph', { pinFirstUse: true });
    const info = await this.backend.loadGraph(graphKey, graph, this.opts.session);
    checkGraphOutputs(manifest.role, manifest.graph.file, info, manifest.kind);
    const { tensors, weightsSha256 } = validateModule(manifest, await readWeights(this.opts.modelsRoot, dir, manifest), info, this.backbone.sha256);
    const moduleKey = `${manifest.id}@${manifest.version}#${++this.seq}`;
    // With mixing off nothing would run on it: skip the lookup.
    const mix = this.opts.limits.mixTasks === false ? undefined : await loadStackedVariant(this.backend, manifest.graph.file, graph, backbone, this.opts.session, tensors);
    await this.backend.loadModule(moduleKey, tensors);
    return { graphKey, moduleKey, provider: info.provider, weightsSha256, mix };
  }

  private async activate(manifest: Manifest, dir: string): Promise<TaskVersion> {
    const { graphKey, moduleKey, provider, weightsSha256, mix } = await this.bind(manifest, dir);
    const activation = moduleKey ?? `${manifest.id}@${manifest.version}#${++this.seq}`;
    const li = manifest.lateInteraction;
    const spec = this.backbone.spec;
    const encoder = new Encoder(
      this.backend,
      this.backbone.tokenizer,
      {
        graph: graphKey,
        module: moduleKey,
        pooling: poolingOf(manifest),
        normalize: manifest.normalize,
        prefixes: manifest.prefixes ?? spec.prefixes,
        text: manifest.text,
        maxLength: {
          query: manifest.maxLength.query ?? li?.queryMaxLength ?? spec.maxLength,
          document: manifest.maxLength.document ?? li?.documentMaxLength ?? spec.maxLength,
          pair: manifest.maxLength.pair ?? spec.maxLength,
        },
        mix,
      },
      { ...this.backbone.info, provider },
      this.opts.limits,
      this.opts.stats?.(manifest.id),
    );
    const next: TaskVersion = {
      id: manifest.id,
      version: manifest.version,
      role: manifest.role,
      kind: manifest.kind,
      encoder,
      manifest,
      dir,
      loadedAt: new Date().toISOString(),
      activation,
      weightsSha256,
      inflight: 0,
    };
    const previous = this.active.get(manifest.id);
    try {
      if (manifest.role === 'retriever' && manifest.pooling === 'none') throw new AsideError('validation', `retriever '${manifest.id}' needs pooling 'mean' or 'cls'`);
      if (previous && previous.role !== next.role) throw new AsideError('conflict', `task '${manifest.id}' is a ${previous.role}; a new version cannot change it to a ${next.role}`);
      await probeEncoder(encoder, manifest.role, this.backbone.info.dims, spec.maxLength, manifest.kind);
      await this.opts.hooks?.beforeActivate?.(next, previous);
    } catch (err) {
      if (moduleKey) await this.backend.unloadModule(moduleKey);
      throw err;
    }
    this.active.set(manifest.id, next);
    this.defaults[next.role] ??= next.id;
    if (previous) {
      this.swaps++;
      this.opts.hooks?.onSwap?.(next.id, previous.version, next.version);
      void this.retire(previous);
    }
    log.info({ task: next.id, version: next.version, role: next.role, kind: next.kind, replaced: previous?.version }, 'task activated');
    await this.changed(next.id, next);
    return next;
  }

  /** Waits for a version's in-flight requests, then frees its module tensors. */
  private async retire(old: TaskVersion): Promise<void> {
    if (old.inflight > 0) await new Promise<void>((resolve) => this.drains.set(old, resolve));
    this.drains.delete(old);
    this.opts.hooks?.onRetire?.(old);
    if (old.encoder.target.module) await this.backend.unloadModule(old.encoder.target.module);
    // An unpacked upload is only ever this version's: once it retires, its files go too.
    if (old.dir && isUploadDir(this.realRoot, old.dir)) await fs.promises.rm(old.dir, { recursive: true, force: true });
  }

  unload(id: string): Promise<TaskVersion> {
    if (id === BASE_TASK) return Promise.reject(new AsideError('validation', `'${BASE_TASK}' cannot be unloaded`));
    return this.serial(id, () => this.unloadNow(id));
  }

  private async unloadNow(id: string): Promise<TaskVersion> {
    const t = this.get(id);
    this.active.delete(id);
    for (const role of ['retriever', 'reranker'] as Role[]) {
      if (this.defaults[role] === id) this.defaults[role] = role === 'retriever' ? BASE_TASK : this.list().find((x) => x.role === role)?.id;
    }
    await this.retire(t);
    await this.changed(id, undefined);
    return t;
  }

  private async changed(id: string, next: TaskVersion | undefined): Promise<void> {
    try {
      await this.opts.hooks?.onChange?.(id, next);
    } catch (err) {
      log.warn({ task: id, err: (err as Error).message }, 'task change not recorded');
    }
  }

  /** Loads every task directory under `dir` (relative to the models root); a bad one is logged and skipped. */
  async loadAll(relDir: string): Promise<{ loaded: string[]; failed: { dir: string; error: string }[] }> {
    const root = await resolveTaskDir(this.opts.modelsRoot, relDir);
    const loaded: string[] = [];
    const failed: { dir: string; error: string }[] = [];
    for (const name of (await fs.promises.readdir(root)).sort()) {
      const sub = path.join(root, name);
      if (!fs.existsSync(path.join(sub, 'manifest.json'))) continue;
      try {
        loaded.push((await this.load(path.relative(this.realRoot, sub))).id);
      } catch (err) {
        failed.push({ dir: sub, error: (err as Error).message });
        log.warn({ dir: sub, err: (err as Error).message }, 'task not loaded');
      }
    }
    return { loaded, failed };
  }
}
