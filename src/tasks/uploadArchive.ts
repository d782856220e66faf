import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { AsideError } from '../errors';

const ALLOWED = /^[A-Za-z0-9._-]+\.(json|safetensors)$/;
const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

/**
 * Unpacks an uploaded task archive (zip of manifest.json + weights, optionally inside one folder) into
 * a fresh directory under `<modelsRoot>/.uploads/`, and returns that directory relative to the root.
 * Only flat .json/.safetensors files are accepted, so an archive cannot write anywhere else.
 */
export async function unpackTaskArchive(modelsRoot: string, taskId: string, zip: Buffer): Promise<string> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/.test(taskId)) throw new AsideError('validation', `invalid task id '${taskId}'`);
  const rel = path.join('.uploads', `${taskId}-${Date.now()}-${process.pid}`);
  const dir = path.join(modelsRoot, rel);
  fs.mkdirSync(dir, { recursive: true });
  try {
    await new Promise<void>((resolve, reject) => {
      yauzl.fromBuffer(zip, { lazyEntries: true }, (err, archive) => {
        if (err || !archive) return reject(new AsideError('validation', `upload is not a zip archive: ${err?.message ?? 'unreadable'}`));
        archive.on('error', (e: Error) => reject(new AsideError('validation', `bad zip archive: ${e.message}`)));
        archive.on('end', () => resolve());
        archive.on('entry', (entry: yauzl.Entry) => {
          if (entry.fileName.endsWith('/')) return archive.readEntry();
          const name = path.posix.basename(entry.fileName);
          const depth = entry.fileName.split('/').length;
          if (depth > 2 || !ALLOWED.test(name) || entry.fileName.includes('..')) {
            return reject(new AsideError('validation', `archive entry '${entry.fileName}' is not allowed (only manifest.json and .safetensors files)`));
          }
          if (entry.uncompressedSize > MAX_ENTRY_BYTES) return reject(new AsideError('payload_too_large', `archive entry '${name}' is larger than ${MAX_ENTRY_BYTES} bytes`));
          archive.openReadStream(entry, (e2, stream) => {
            if (e2 || !stream) return reject(new AsideError('validation', `cannot read '${entry.fileName}'`));
            const out = fs.createWriteStream(path.join(dir, name), { flags: 'wx' });
            out.on('error', (e: Error) => reject(new AsideError('validation', `archive entry '${name}': ${e.message}`)));
            out.on('finish', () => archive.readEntry());
            stream.pipe(out);
          });
        });
        archive.readEntry();
      });
    });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return rel;
}
