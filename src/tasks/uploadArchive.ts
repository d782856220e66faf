import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { AsideError } from '../errors';
import { TASK_FILE_LIMITS } from './taskFiles';
import { uploadsDir, uploadDirPrefix } from './uploadDirs';

const ALLOWED = /^[A-Za-z0-9._-]+\.(json|safetensors)$/;

/** A task archive holds a manifest and its weights (plus perhaps their folder): a few entries, bounded bytes. */
export const ARCHIVE_LIMITS = { entries: 8, totalBytes: TASK_FILE_LIMITS.manifestBytes + TASK_FILE_LIMITS.weightsBytes } as const;

const bad = (msg: string) => new AsideError('validation', msg);

function openZip(zip: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // validateEntrySizes (yauzl's default, set explicitly): a stream that yields more or fewer bytes
    // than its entry declares fails, so the declared sizes checked below bound what is written.
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true }, (err, archive) => {
      if (err || !archive) reject(bad(`upload is not a zip archive: ${err?.message ?? 'unreadable'}`));
      else resolve(archive);
    });
  });
}

/** The central directory only: names and declared sizes, nothing decompressed yet. */
function listEntries(archive: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    archive.on('error', (e: Error) => reject(bad(`bad zip archive: ${e.message}`)));
    archive.on('end', () => resolve(entries));
    archive.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      archive.readEntry();
    });
    archive.readEntry();
  });
}

function checkEntries(entries: yauzl.Entry[]): yauzl.Entry[] {
  const files = entries.filter((e) => !e.fileName.endsWith('/'));
  const names = new Set<string>();
  let total = 0;
  for (const entry of files) {
    const name = path.posix.basename(entry.fileName);
    if (entry.fileName.split('/').length > 2 || !ALLOWED.test(name) || entry.fileName.includes('..')) {
      throw bad(`archive entry '${entry.fileName}' is not allowed (only manifest.json and .safetensors files)`);
    }
    if (names.has(name)) throw bad(`archive has '${name}' twice`);
    names.add(name);
    total += entry.uncompressedSize;
    if (total > ARCHIVE_LIMITS.totalBytes) throw new AsideError('payload_too_large', `archive unpacks to more than ${ARCHIVE_LIMITS.totalBytes} bytes`);
  }
  return files;
}

async function extract(archive: yauzl.ZipFile, entry: yauzl.Entry, file: string): Promise<void> {
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    archive.openReadStream(entry, (err, s) => (err || !s ? reject(bad(`cannot read '${entry.fileName}': ${err?.message ?? 'unreadable'}`)) : resolve(s))),
  );
  try {
    // pipeline() handles an error on either side (corrupt deflate data, a wrong size, a full disk).
    await pipeline(stream, fs.createWriteStream(file, { flags: 'wx' }));
  } catch (err) {
    throw bad(`archive entry '${entry.fileName}' is corrupt or unwritable: ${(err as Error).message}`);
  }
}

/**
 * Unpacks an uploaded task archive (zip of manifest.json + weights, optionally inside one folder) into
 * a fresh, uniquely named directory under `<modelsRoot>/.uploads/`, and returns it relative to the
 * root. Entry count, names and the total declared size are checked before anything is written; on any
 * failure the directory is removed.
 */
export async function unpackTaskArchive(modelsRoot: string, taskId: string, zip: Buffer): Promise<string> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/.test(taskId)) throw bad(`invalid task id '${taskId}'`);
  const archive = await openZip(zip);
  if (archive.entryCount > ARCHIVE_LIMITS.entries) throw new AsideError('payload_too_large', `archive has ${archive.entryCount} entries; a task archive holds at most ${ARCHIVE_LIMITS.entries}`);
  const files = checkEntries(await listEntries(archive));
  await fs.promises.mkdir(uploadsDir(modelsRoot), { recursive: true });
  const dir = await fs.promises.mkdtemp(path.join(uploadsDir(modelsRoot), uploadDirPrefix(taskId)));
  try {
    for (const entry of files) await extract(archive, entry, path.join(dir, path.posix.basename(entry.fileName)));
  } catch (err) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    archive.close();
  }
  return path.relative(modelsRoot, dir);
}
