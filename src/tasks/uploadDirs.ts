import path from 'node:path';
import { removeStaleDirs } from '../util/staleDirs';

/** Uploaded archives unpack under `<modelsRoot>/.uploads/<task>-<pid>-<random>/`. */
export const uploadsDir = (modelsRoot: string): string => path.join(modelsRoot, '.uploads');

export const uploadDirPrefix = (taskId: string): string => `${taskId}-${process.pid}-`;

export function isUploadDir(modelsRoot: string, dir: string): boolean {
  return path.dirname(dir) === uploadsDir(modelsRoot);
}

/** Removes upload directories of processes that are gone, except those `keep` names (recorded as active). */
export function removeStaleUploads(modelsRoot: string, keep: (dir: string) => boolean): string[] {
  return removeStaleDirs(uploadsDir(modelsRoot), /^[a-zA-Z0-9][a-zA-Z0-9._-]*-(\d+)-[A-Za-z0-9]{6}$/, (name) => keep(path.join(uploadsDir(modelsRoot), name)));
}
