import fs from 'node:fs';
import path from 'node:path';
import { log } from '../log';

function readProcStat(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    // A killed process not yet reaped by its parent still answers signal 0; on Linux it is a zombie ('Z').
    return !/^\d+ \(.*\) Z/.test(readProcStat(pid));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `parent` whose name matches `pattern` (the first capture group that matched: the pid of the
 * process that made it) when that process is gone: what a crash (kill -9, power loss) left behind.
 * Entries of live processes are kept, so two servers sharing a directory never delete each other's work.
 */
export function removeStaleDirs(parent: string, pattern: RegExp, keep: (name: string) => boolean = () => false): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || keep(name) || alive(Number(m.slice(1).find((g) => g !== undefined)))) continue;
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  if (removed.length) log.info({ dir: parent, removed }, 'removed leftovers of a crashed process');
  return removed;
}
