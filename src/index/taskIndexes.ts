import { Collection } from '../data/beir';
import { ModelSpec } from '../models/catalog';
import type { TaskVersion } from '../tasks/registry';
import { documentEmbedder, openCorpus, SearchableCorpus } from './corpusIndex';
import { BuildFailures } from './buildFailures';

/**
 * The served collection's index per retriever task version: built (or loaded from disk) on first use,
 * then reused until that version retires. One index per version, so a query embedded by one version
 * never meets document vectors of another.
 */
export class TaskIndexes {
  private readonly byTask = new Map<TaskVersion, Promise<SearchableCorpus>>();

  constructor(
    readonly collection: Collection,
    private readonly spec: ModelSpec,
    /** The served backbone file's real sha256 (not the catalog's): what the vectors came from. */
    private readonly modelSha256: string,
    private readonly ef: number,
  ) {}

  private readonly failures = new BuildFailures();

  of(task: TaskVersion): Promise<SearchableCorpus> {
    let p = this.byTask.get(task);
    if (!p) {
      // A build that failed recently is answered with its cause (503) instead of being retried per search.
      const what = `the index of task '${task.id}' (version ${task.version})`;
      this.failures.check(task.activation, what);
      const fingerprint = {
        model: this.spec.id,
        modelSha256: this.modelSha256,
        task: task.id,
        taskVersion: task.version,
        weightsSha256: task.weightsSha256 ?? '',
        maxLength: String(task.encoder.target.maxLength.document),
      };
      p = openCorpus(this.collection, documentEmbedder(task.encoder, fingerprint), { ef: this.ef }).catch((err) => {
        this.byTask.delete(task);
        throw this.failures.record(task.activation, what, err);
      });
      this.byTask.set(task, p);
    }
    return p;
  }

  has(task: TaskVersion): boolean {
    return this.byTask.has(task);
  }

  retire(task: TaskVersion): void {
    this.byTask.delete(task);
  }

  /** Size of this version's index, if it has been built. */
  async size(task: TaskVersion): Promise<number | undefined> {
    const p = this.byTask.get(task);
    return p ? (await p.catch(() => undefined))?.index.size : undefined;
  }
}
