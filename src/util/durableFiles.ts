import fs from 'node:fs';
import path from 'node:path';

/** Flushes a file or directory to disk: a rename is only durable once the renamed data and the directory are. */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await fs.promises.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `file` so that a crash leaves either the old or the new content: temp file, fsync, rename, fsync dir. */
export async function writeFileDurably(file: string, data: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.tmp-${path.basename(file)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const fh = await fs.promises.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    await fsyncPath(dir);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
