import path from 'node:path';
import { log } from '../log';
import { ActiveTaskRecord, RecordedTask } from './activeRecord';
import { TaskRegistry, TaskVersion } from './registry';
import { removeStaleUploads } from './uploadDirs';

/**
 * Makes admin changes survive a restart: every PUT / DELETE after start is recorded; at the next start,
 * after the tasks directory is loaded, the recorded versions are loaded again (and recorded deletions
 * applied). Upload directories nobody records any more are removed.
 */
export class TaskPersistence {
  private readonly record: ActiveTaskRecord;
  private recorded: Record<string, RecordedTask> = {};
  private recording = false;

  constructor(private readonly registry: TaskRegistry) {
    this.record = new ActiveTaskRecord(registry.realModelsRoot);
  }

  /** Before the tasks directory is loaded: reads the record and clears uploads of crashed processes. */
  prepare(): void {
    this.recorded = this.record.read();
    const keep = new Set(Object.values(this.recorded).flatMap((r) => (r ? [path.resolve(this.registry.realModelsRoot, r.dir)] : [])));
    removeStaleUploads(this.registry.realModelsRoot, (dir) => keep.has(dir));
  }

  /**
   * After the tasks directory is loaded: re-applies what was recorded, then records from now on. A
   * recorded deletion of a task named as a default in the settings is not applied (the start would
   * otherwise stop on a missing default); it is logged instead.
   */
  async restore(defaults: (string | undefined)[] = []): Promise<{ restored: string[]; failed: string[] }> {
    const restored: string[] = [];
    const failed: string[] = [];
    for (const [id, entry] of Object.entries(this.recorded)) {
      try {
        if (entry === null && defaults.includes(id)) {
          log.warn({ task: id, file: this.record.file }, 'a recorded deletion of a configured default task is not applied');
          continue;
        }
        if (entry === null) {
          if (this.registry.knownIds().includes(id)) await this.registry.unload(id);
        } else {
          const now = this.registry.list().find((t) => t.id === id);
          if (!now?.dir || this.registry.relativeDir(now.dir) !== entry.dir || now.version !== entry.version) await this.registry.load(entry.dir, id);
        }
        restored.push(id);
      } catch (err) {
        failed.push(id);
        log.warn({ task: id, recorded: entry, file: this.record.file, err: (err as Error).message }, 'recorded task state not restored; serving the tasks directory version');
        await this.record.set(id, undefined, this.registry.realModelsRoot).catch(() => undefined);
      }
    }
    this.recording = true;
    if (restored.length) log.info({ restored, file: this.record.file }, 'admin task changes restored');
    return { restored, failed };
  }

  onChange(id: string, next: TaskVersion | undefined): Promise<void> {
    if (!this.recording) return Promise.resolve();
    return this.record.set(id, next?.dir ? { dir: this.registry.relativeDir(next.dir), version: next.version } : null, this.registry.realModelsRoot);
  }

  /** What `GET /v1/tasks` says about restarts (no server path: the route is public). */
  describe(): { admin_changes_survive_restart: boolean; note: string } {
    return { admin_changes_survive_restart: true, note: 'PUT and DELETE of tasks are recorded under $ASIDE_HOME/state/ and re-applied at start' };
  }
}
