import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline';
import { loadCollection } from '../src/data/beir';
import { openCorpus } from '../src/index/corpusIndex';
import { removeStaleIndexTemps, VectorIndex } from '../src/index/vectorIndex';
import { openBaseEncoder, Encoder } from '../src/inference/encoder';
import { resolveModel } from '../src/models/catalog';
import { demoCollectionDir, REPO_ROOT } from '../src/paths';
import { seededVectors } from './helpers/vectors';

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

function build(count: number, dims = 64): VectorIndex {
  const idx = VectorIndex.create('t', dims, count, { test: 'persist' });
  seededVectors(count, dims).forEach((v, i) => idx.add(`d${i}`, v));
  return idx;
}

/** Every vector's nearest neighbour is itself: the ids and the vectors still belong together. */
function selfConsistent(idx: VectorIndex, count: number, dims = 64): boolean {
  const vecs = seededVectors(count, dims);
  return [0, 1, Math.floor(count / 2), count - 1].every((i) => idx.search(vecs[i], 1)[0]?.id === `d${i}`);
}

describe('persisted indexes are verified, crash-safe and rebuilt when damaged', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-persist-'));
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await openBaseEncoder(resolveModel());
  });

  describe('a damaged index on disk is detected, logged and rebuilt (never served)', () => {
    const ids = (dir: string) => path.join(dir, 'ids.json');
    const tampers: [string, (dir: string) => void][] = [
      ['truncated index file', (d) => fs.truncateSync(path.join(d, 'index.hnsw'), fs.statSync(path.join(d, 'index.hnsw')).size - 100)],
      [
        'flipped vector bytes',
        (d) => {
          const f = path.join(d, 'index.hnsw');
          const b = fs.readFileSync(f);
          b[Math.floor(b.length / 2)] ^= 0xff;
          fs.writeFileSync(f, b);
        },
      ],
      ['short id list', (d) => fs.writeFileSync(ids(d), JSON.stringify(JSON.parse(fs.readFileSync(ids(d), 'utf8')).slice(1)))],
      [
        'swapped ids',
        (d) => {
          const list = JSON.parse(fs.readFileSync(ids(d), 'utf8'));
          [list[0], list[1]] = [list[1], list[0]];
          fs.writeFileSync(ids(d), JSON.stringify(list));
        },
      ],
      [
        'shuffled ids with a rewritten checksum',
        (d) => {
          const list = JSON.parse(fs.readFileSync(ids(d), 'utf8')) as string[];
          list.reverse();
          fs.writeFileSync(ids(d), JSON.stringify(list.slice(0, -1).concat('not-a-doc')));
          const meta = JSON.parse(fs.readFileSync(path.join(d, 'meta.json'), 'utf8'));
          const crypto = require('node:crypto');
          const bytes = fs.readFileSync(ids(d));
          meta.files['ids.json'] = { bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
          fs.writeFileSync(path.join(d, 'meta.json'), JSON.stringify(meta));
        },
      ],
      ['garbage meta.json', (d) => fs.writeFileSync(path.join(d, 'meta.json'), '{"name": ')],
    ];
    it.each(tampers)('%s', async (_name, tamper) => {
      process.env.ASIDE_HOME = home;
      try {
        const full = await loadCollection(demoCollectionDir());
        const collection = { ...full, docs: full.docs.slice(0, 32) };
        let embedded = 0;
        const embedder = {
          fingerprint: { model: 'all-MiniLM-L6-v2', test: 'tamper' },
          text: (d: { title: string; text: string }) => encoder.documentText(d),
          embed: async (t: string[]) => ((embedded += t.length), encoder.embed(t, 'document')),
        };
        const first = await openCorpus(collection, embedder);
        const [q] = await encoder.embed([collection.docs[3].text], 'query');
        const want = first.index.search(q, 5);
        const dir = fs
          .readdirSync(path.join(home, 'indexes'))
          .filter((n) => !n.startsWith('.'))
          .map((n) => path.join(home, 'indexes', n))[0];
        tamper(dir);
        // With its checksum rewritten too, an id list is caught by the collection check in openCorpus instead.
        if (!_name.includes('rewritten')) await expect(VectorIndex.load(dir)).rejects.toThrow(new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        const before = embedded;
        const again = await openCorpus(collection, embedder);
        expect(embedded).toBe(before + 32); // rebuilt, not served
        expect(again.index.search(q, 5)).toEqual(want);
        expect((await VectorIndex.load(dir)).size).toBe(32); // and persisted whole again
      } finally {
        delete process.env.ASIDE_HOME;
        fs.rmSync(path.join(home, 'indexes'), { recursive: true, force: true });
      }
    });
  });

  it('a truncated index file is refused even with checksums that match it (what a silent short write would persist)', async () => {
    const dir = path.join(home, 'short-write');
    await build(3000).save(dir);
    const f = path.join(dir, 'index.hnsw');
    fs.truncateSync(f, Math.floor(fs.statSync(f).size * 0.7));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const bytes = fs.readFileSync(f);
    meta.files['index.hnsw'] = { bytes: bytes.length, sha256: require('node:crypto').createHash('sha256').update(bytes).digest('hex') };
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
    await expect(VectorIndex.load(dir)).rejects.toThrow();
  });

  it('kill -9 at arbitrary points of a save leaves the previous index or none, and no leftovers after cleanup', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-crash-'));
    const dir = path.join(parent, 'idx');
    const count = 8000;
    let sawLoadable = 0;
    for (let round = 0; round < 6; round++) {
      const child = spawn(TSX, [path.join(__dirname, 'helpers', 'indexSaveLoop.ts'), dir, String(count)], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
      const lines = readline.createInterface({ input: child.stdout! });
      // Kill during save number 1 or 2, at a different delay each round.
      await new Promise<void>((resolve) => lines.on('line', (l) => l === `saving ${1 + (round % 2)}` && resolve()));
      await new Promise((r) => setTimeout(r, [0, 15, 40, 80, 120, 200][round]));
      process.kill(-child.pid!, 'SIGKILL'); // the whole group: tsx runs the script in a child node
      await new Promise((r) => child.once('exit', r));
      for (let i = 0; i < 50 && fs.readdirSync(parent).some((n) => n !== 'idx'); i++) {
        removeStaleIndexTemps(parent);
        await new Promise((r) => setTimeout(r, 100)); // until the killed process is gone from the process table
      }
      expect(fs.readdirSync(parent).filter((n) => n !== 'idx')).toEqual([]);
      if (fs.existsSync(dir)) {
        const idx = await VectorIndex.load(dir); // whatever is in place passes every check
        expect(idx.size).toBe(count);
        expect(selfConsistent(idx, count)).toBe(true);
        sawLoadable++;
      }
    }
    expect(sawLoadable).toBeGreaterThan(0);
  });

  it('a full disk during a save fails the save and keeps the previous index (tmpfs of 2 MB)', async () => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-full-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    if (mounted.status !== 0) throw new Error(`this test needs root to mount a small tmpfs: ${mounted.stderr}`);
    try {
      const dir = path.join(mnt, 'idx');
      await build(500).save(dir); // ~170 KB: fits
      await expect(build(6000).save(dir)).rejects.toThrow(); // ~2.1 MB of vectors alone: cannot fit
      expect(fs.readdirSync(mnt)).toEqual(['idx']);
      const kept = await VectorIndex.load(dir);
      expect(kept.size).toBe(500);
      expect(selfConsistent(kept, 500)).toBe(true);
    } finally {
      spawnSync('umount', [mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });
});
