/**
 * Running as root (CI containers), Elasticsearch runs as an unprivileged user who must reach the
 * distribution and the node directory. A clone under a 0700 parent hides them; the node must then run
 * from a reachable copy, or fail at once naming the path and the directory that blocks it.
 * Only meaningful as root: skipped otherwise (a non-root user runs Elasticsearch as itself).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { esRootDir } from '../tools/elasticsearch/distribution';
import { blockingAncestor, canAccess, runAsUser } from '../tools/elasticsearch/runAs';
import { startLocalNode } from '../tools/elasticsearch/localNode';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const rootOnly = asRoot ? describe : describe.skip;

rootOnly('Elasticsearch under a 0700 parent, as root', () => {
  let locked: string;
  const savedHome = process.env.ASIDE_HOME;

  beforeAll(() => {
    locked = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-locked-'));
    fs.chmodSync(locked, 0o700);
    // ASIDE_HOME inside the locked folder; its elasticsearch/ links to the cached distribution, so the
    // distribution's path runs through the 0700 directory without downloading it again.
    const cached = esRootDir();
    fs.mkdirSync(path.join(locked, 'aside'));
    fs.symlinkSync(cached, path.join(locked, 'aside', 'elasticsearch'));
    process.env.ASIDE_HOME = path.join(locked, 'aside');
  });

  afterAll(() => {
    if (savedHome === undefined) delete process.env.ASIDE_HOME;
    else process.env.ASIDE_HOME = savedHome;
    fs.rmSync(locked, { recursive: true, force: true });
  });

  test('the check names the directory that blocks the Elasticsearch user', () => {
    const who = runAsUser()!;
    const inside = path.join(locked, 'aside', 'x');
    expect(canAccess(who, locked, 'x')).toBe(false);
    expect(blockingAncestor(who, inside)).toEqual({ dir: locked, mode: '0700' });
    expect(blockingAncestor(who, path.join(os.tmpdir(), 'x'))).toBeUndefined();
  });

  test('a node directory the user cannot reach fails at once, naming it', async () => {
    const dir = path.join(locked, 'node');
    const t0 = Date.now();
    await expect(startLocalNode({ dir, startTimeoutMs: 5000 })).rejects.toThrow(new RegExp(`cannot reach the node directory ${dir}: ${locked} \\(mode 0700\\)`));
    expect(Date.now() - t0).toBeLessThan(30000);
  }, 120000);

  test('the node still starts: it runs from a reachable copy of the distribution', async () => {
    const node = await startLocalNode({ startTimeoutMs: 150000 });
    try {
      const health = (await (await fetch(`${node.url}/_cluster/health`)).json()) as { status: string };
      expect(['green', 'yellow']).toContain(health.status);
    } finally {
      await node.stop();
    }
  }, 240000);
});

if (!asRoot) test('skipped: not root, Elasticsearch runs as this user', () => expect(asRoot).toBe(false));
