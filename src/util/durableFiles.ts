import crypto from 'node:crypto';
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

/** Flushes a directory entry (a rename) to disk; some filesystems refuse to open directories, which is fine. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * A file written beside its target, hashed as it is written, fsynced, then renamed into place: a
 * crash leaves either the old file or the new one, never half of one. Returns size and sha256.
 */
export class DurableWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly hash = crypto.createHash('sha256');
  private size = 0;

  constructor(private readonly target: string) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    this.tmp = `${target}.tmp-${process.pid}`;
    this.fd = fs.openSync(this.tmp, 'w');
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
    this.hash.update(bytes);
    this.size += bytes.length;
  }

  commit(): { bytes: number; sha256: string } {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.target);
    fsyncDir(path.dirname(this.target));
    return { bytes: this.size, sha256: this.hash.digest('hex') };
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** The synchronous form, for writers already on a worker path (token stores); returns size and sha256. */
export function writeFileDurablySync(target: string, data: string | Uint8Array): { bytes: number; sha256: string } {
  const w = new DurableWriter(target);
  try {
    w.write(typeof data === 'string' ? Buffer.from(data) : data);
    return w.commit();
  } catch (err) {
    w.abort();
    throw err;
  }
}

/** Size and sha256 of a file, streamed (never read whole into memory). */
export async function fileDigest(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
