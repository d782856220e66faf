import fs from 'node:fs';
import path from 'node:path';
import { AsideError } from '../errors';

/**
 * What a task load may read. A manifest is a few KB and a module a few MB (the shipped IAA-L
 * retriever is 4 MB); the caps keep a hostile or mistaken file from stalling the server.
 */
export const TASK_FILE_LIMITS = { manifestBytes: 1024 * 1024, weightsBytes: 256 * 1024 * 1024 } as const;

const invalid = (msg: string) => new AsideError('validation', msg);

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/**
 * Resolves a task directory given relative to the models root. Containment is checked on the path
 * itself before anything on disk is looked at (so an answer never reveals what exists outside the
 * root), then again on the real path (symlinks).
 */
export async function resolveTaskDir(root: string, p: string): Promise<string> {
  if (path.isAbsolute(p)) throw invalid(`path '${p}' is absolute: give it relative to the models root`);
  const realRoot = await fs.promises.realpath(root);
  if (!within(realRoot, path.resolve(realRoot, p))) throw invalid(`path '${p}' escapes the models root`);
  let real: string;
  try {
    real = await fs.promises.realpath(path.resolve(realRoot, p));
  } catch {
    throw new AsideError('not_found', `no task directory at '${p}' under the models root`);
  }
  if (!within(realRoot, real)) throw invalid(`path '${p}' escapes the models root`);
  if (!(await fs.promises.stat(real)).isDirectory()) throw invalid(`'${p}' is not a directory`);
  return real;
}

/**
 * Reads one file of a task directory: it must resolve (real path) to a regular file inside the
 * models root and be at most `maxBytes`. Opened non-blocking so a FIFO cannot hang the event loop,
 * checked on the open descriptor, read asynchronously. Messages name the file, never its content.
 */
export async function readTaskFile(root: string, dir: string, name: string, maxBytes: number): Promise<Buffer> {
  if (name !== path.basename(name) || name === '.' || name === '..') throw invalid(`'${name}' must be a file name in the task directory`);
  const realRoot = await fs.promises.realpath(root);
  let real: string;
  try {
    real = await fs.promises.realpath(path.join(dir, name));
  } catch {
    throw invalid(`${name} is missing from the task directory`);
  }
  if (!within(realRoot, real)) throw invalid(`${name} links outside the models root`);
  const fh = await fs.promises.open(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalid(`${name} is not a regular file`);
    if (st.size > maxBytes) throw new AsideError('payload_too_large', `${name} has ${st.size} bytes; the limit is ${maxBytes}`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off);
      if (bytesRead === 0) throw invalid(`${name} shrank while it was read`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}
