import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asideHome } from '../paths';
import { writeFileDurably } from '../util/durableFiles';

/**
 * Model files are verified when served, not only when fetched. Hashing a 90 MB backbone at every start
 * costs ~0.3 s, so a record of (size, mtime, ctime, inode) is kept beside the hash, made at fetch or
 * at the last full hash: while the file's stat matches it, the hash is trusted; any write changes
 * ctime (which no tool can set back), and then the file is hashed in full again.
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

async function hashFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Records that `file` (as it is now) has `sha256`: the fetch command calls this after verifying. */
export async function recordFileHash(file: string, sha256: string): Promise<void> {
  const real = await fs.promises.realpath(file);
  const st = await fs.promises.stat(real);
  const rec: HashRecord = { file: real, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256 };
  await writeFileDurably(recordPath(real), JSON.stringify(rec));
}

/** The file's sha256: from its record while the file is unchanged, else hashed in full (and recorded). */
export async function fileSha256(file: string): Promise<string> {
  const real = await fs.promises.realpath(file);
  const st = await fs.promises.stat(real);
  try {
    const rec = JSON.parse(await fs.promises.readFile(recordPath(real), 'utf8')) as HashRecord;
    if (rec.file === real && sameStat(rec, st) && /^[0-9a-f]{64}$/.test(rec.sha256)) return rec.sha256;
  } catch {
    /* no usable record: hash it */
  }
  const sha256 = await hashFile(real);
  await recordFileHash(real, sha256).catch(() => undefined); // a read-only home only costs the next start a hash
  return sha256;
}

/**
 * Verifies a model file against the sha256 that pins it (catalog, or a manifest's graph hash) and
 * returns its real sha256; without a pin, only returns it. A mismatch names the file and what to do.
 */
export async function verifyModelFile(file: string, expected: string | undefined, what: string): Promise<string> {
  const sha256 = await fileSha256(file);
  if (expected && sha256 !== expected) {
    throw new Error(`${what} ${file} is not the file it should be: sha256 ${sha256}, expected ${expected}. It changed after it was fetched or built; fetch or build it again (npm run models:fetch / npm run modules:graphs)`);
  }
  return sha256;
}
