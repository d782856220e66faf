import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { setting } from '../../src/config';
import { homeOnce } from './homeOnce';

/**
 * Elasticsearch refuses to run as root, so a root caller (CI containers) runs it as an unprivileged user.
 * That user must reach the distribution and the node's directory: a clone under a 0700 parent (root's
 * home, a `mktemp -d` folder) hides both. Here: who that user is, whether it can reach a path, and a
 * reachable place to put the distribution when it cannot.
 */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

/** The user Elasticsearch runs as when we are root: ASIDE_ES_RUN_AS (default `nobody`); undefined otherwise. */
export function runAsUser(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const user = setting('esRunAs') ?? 'nobody';
  try {
    const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
    return { user, uid, gid };
  } catch {
    throw new AsideError('unavailable', `running as root, Elasticsearch needs an unprivileged user: '${user}' does not exist (set ASIDE_ES_RUN_AS)`);
  }
}

export function chownTree(p: string, uid: number, gid: number): void {
  fs.chownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

/** Whether `who` can execute (`x`), write (`w`) or read (`r`) `p`, asked of the kernel as that user. */
export function canAccess(who: RunAs, p: string, mode: 'x' | 'w' | 'r'): boolean {
  const r = spawnSync('setpriv', [`--reuid=${who.uid}`, `--regid=${who.gid}`, '--clear-groups', 'test', `-${mode}`, p], { stdio: 'ignore' });
  return r.status === 0;
}

/** The first ancestor of `p` that `who` cannot traverse, with its mode; undefined when all can be. */
export function blockingAncestor(who: RunAs, p: string): { dir: string; mode: string } | undefined {
  const parts = path.resolve(p).split(path.sep).filter(Boolean);
  let dir: string = path.sep;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    if (!canAccess(who, dir, 'x')) return { dir, mode: (fs.statSync(dir).mode & 0o777).toString(8).padStart(4, '0') };
  }
  return undefined;
}

/** A directory `who` can traverse, for homes and node directories: os.tmpdir(), else /tmp, else /var/tmp. */
export function reachableBase(who: RunAs): string | undefined {
  for (const base of [os.tmpdir(), '/tmp', '/var/tmp']) {
    if (fs.existsSync(base) && canAccess(who, base, 'x') && !blockingAncestor(who, base)) return base;
  }
  return undefined;
}

const cannotReach = (who: RunAs, p: string, what: string): AsideError => {
  const block = blockingAncestor(who, p);
  const why = block ? `${block.dir} (mode ${block.mode}) is not traversable by others` : 'permission denied';
  return new AsideError(
    'unavailable',
    `Elasticsearch runs as '${who.user}' because we are root, and '${who.user}' cannot reach ${what} ${p}: ${why}. ` +
      `Give that directory o+x (chmod o+x ${block?.dir ?? path.dirname(p)}), or set ASIDE_HOME to a directory every user can reach.`,
  );
};

/**
 * `home` itself when `who` can run its bin/elasticsearch; otherwise a hard-linked (else copied) twin under
 * a reachable base, made once. Throws, naming the path and the blocking directory, when neither works.
 */
export async function reachableHome(who: RunAs, home: string): Promise<string> {
  const bin = path.join(home, 'bin', 'elasticsearch');
  if (canAccess(who, bin, 'x')) return home;
  const base = reachableBase(who);
  if (!base) throw cannotReach(who, bin, 'the Elasticsearch distribution');
  const root = path.join(base, `aside-elasticsearch-${process.getuid?.() ?? 0}`);
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  fs.chmodSync(root, 0o755);
  const twin = await homeOnce(path.join(root, path.basename(home)), async (tmp) => {
    log.warn({ home, user: who.user }, 'the Elasticsearch user cannot reach the distribution; linking a reachable copy');
    const staged = path.join(tmp, 'home');
    const src = fs.realpathSync(home); // cp -a would copy a symlinked home as the link itself
    if (spawnSync('cp', ['-al', src, staged], { stdio: 'ignore' }).status !== 0) execFileSync('cp', ['-a', src, staged]);
    return staged;
  });
  if (!canAccess(who, path.join(twin, 'bin', 'elasticsearch'), 'x')) throw cannotReach(who, bin, 'the Elasticsearch distribution');
  return twin;
}

/** Fails at once, naming the path, when `who` cannot write the node's own directory. */
export function assertWritableDir(who: RunAs, dir: string): void {
  if (!canAccess(who, dir, 'w') || !canAccess(who, dir, 'x')) throw cannotReach(who, dir, 'the node directory');
}
