import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asideHome } from '../paths';
import { writeFileDurably } from '../util/durableFiles';

/**
 * Model files are verified when served, not only when fetched or built. Hashing a 90 MB backbone at
 * every start costs ~0.3 s, so a record of (size, mtime, ctime, inode) is kept beside the hash, made at
 * fetch, at build or at the last full hash: while the file's stat matches it, the hash is trusted; any
 * write changes ctime (which no tool can set back), and then the file is hashed in full again.
 */
interface HashRecord {
  file: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

const recordPath = (real: string): string => path.join(asideHome(), 'verified', `${crypto.createHash('sha256').update(real).digest('hex').slice(0, 24)}.json`);

function sameStat(r: HashRecord, st: fs.Stats): boolean {
  return r.size === st.size && r.mtimeMs === st.mtimeMs && r.ctimeMs === st.ctimeMs && r.ino === st.ino;
}

export async function hashFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Records that `file` (as it is now) has `sha256`: the fetch and graph-build commands call this. */
export async function recordFileHash(file: string, sha256: string): Promise<void> {
  const real = await fs.promises.realpath(file);
  const st = await fs.promises.stat(real);
  const rec: HashRecord = { file: real, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256 };
  await writeFileDurably(recordPath(real), JSON.stringify(rec));
}

/**
 * Verifies a model file and returns its real sha256. The pin is `expected` (the catalog's hash of a
 * backbone) or, with `pinFirstUse`, the hash recorded when the file was built or first verified (task
 * graphs: a re-export on another machine may differ byte-wise, so no manifest can pin them). Without
 * either, the hash is only computed. While the file's stat matches its record the recorded hash is
 * trusted; otherwise the file is hashed in full, and a hash that differs from the pin is an error that
 * names the file.
 */
export async function verifyModelFile(file: string, expected: string | undefined, what: string, opts: { pinFirstUse?: boolean } = {}): Promise<string> {
  const real = await fs.promises.realpath(file);
  const st = await fs.promises.stat(real);
  let rec: HashRecord | undefined;
  try {
    rec = JSON.parse(await fs.promises.readFile(recordPath(real), 'utf8')) as HashRecord;
    if (rec.file !== real || !/^[0-9a-f]{64}$/.test(rec.sha256)) rec = undefined;
  } catch {
    rec = undefined;
  }
  if (rec && sameStat(rec, st) && (!expected || rec.sha256 === expected)) return rec.sha256;
  const sha256 = await hashFile(real);
  const pin = expected ?? (opts.pinFirstUse ? rec?.sha256 : undefined);
  if (pin && sha256 !== pin) {
    const source = expected ? 'pinned by the catalog' : `recorded in ${recordPath(real)} when it was built or first verified`;
    throw new Error(`${what} ${real} is not the file it should be: sha256 ${sha256}, expected ${pin} (${source}). It changed since; fetch or build it again (npm run models:fetch, or training's export_graph for a full task graph)`);
  }
  await recordFileHash(real, sha256).catch(() => undefined); // a read-only home only costs the next start a hash
  return sha256;
}
