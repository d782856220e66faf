import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asideHome } from '../paths';
import { writeFileDurably } from '../util/durableFiles';
import { log } from '../log';

/** A task directory relative to the models root, or null: the task was unloaded. */
export type RecordedTask = { dir: string; version: string } | null;

/**
 * What the admin API changed (PUT / DELETE of tasks), per models root, kept under `.aside/state/` so
 * that a restart serves the same versions instead of silently going back to the directory's.
 */
export class ActiveTaskRecord {
  readonly file: string;
  private state: Record<string, RecordedTask> = {};
  private writes: Promise<void> = Promise.resolve();

  constructor(realRoot: string) {
    this.file = path.join(asideHome(), 'state', `tasks-${crypto.createHash('sha256').update(realRoot).digest('hex').slice(0, 16)}.json`);
  }

  read(): Record<string, RecordedTask> {
    try {
      const raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { root?: string; tasks?: Record<string, RecordedTask> };
      this.state = raw.tasks && typeof raw.tasks === 'object' ? raw.tasks : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file: this.file, err: (err as Error).message }, 'task record unreadable; serving the tasks directory as it is');
      this.state = {};
    }
    return { ...this.state };
  }

  /** Records one task's state (undefined forgets it); writes are durable and in call order. */
  set(id: string, entry: RecordedTask | undefined, root: string): Promise<void> {
    if (entry === undefined) delete this.state[id];
    else this.state[id] = entry;
    const body = JSON.stringify({ root, tasks: this.state }, null, 2);
    this.writes = this.writes.catch(() => undefined).then(() => writeFileDurably(this.file, body));
    return this.writes;
  }
}
