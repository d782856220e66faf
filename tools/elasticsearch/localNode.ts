import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { setting } from '../../src/config';
import { managedNodeStateFile } from '../../src/search/sources/elasticsearch/localNodeUrl';
import { ensureDistribution, esRootDir, esVersion, findJavaHome } from './distribution';
import { homeWithPlugins, pluginZipPath } from './plugin';
import { assertWritableDir, chownTree, reachableBase, reachableHome, runAsUser } from './runAs';

/**
 * A real single-node Elasticsearch for tests and local use: security off, bound to 127.0.0.1, its own
 * config/data/logs directory, modest heap, disk watermarks off. Started as its own process group so that
 * stop() (or `npm run es -- stop` from another process) can end the launcher and the server JVM together.
 */
export interface LocalNodeOptions {
  /** HTTP port; default: a free one. */
  port?: number;
  /** Directory for conf/, data/, logs/; default: a fresh temp dir, removed by stop(). */
  dir?: string;
  /** JVM heap, e.g. '512m' (ASIDE_ES_HEAP). */
  heap?: string;
  version?: string;
  /** How long to wait for green/yellow health (ASIDE_ES_START_TIMEOUT_MS, default 120000). */
  startTimeoutMs?: number;
  /** Let the node outlive this process (the CLI); otherwise it is killed when this process exits. */
  detached?: boolean;
  /** Extra elasticsearch.yml settings (e.g. `{ 'indexing_pressure.memory.limit': '64kb' }`). */
  settings?: Record<string, string | number | boolean>;
  /** Plugin zips to install (e.g. the Aside plugin's); the node then runs from a copy of the distribution with them. */
  plugins?: string[];
  /** Secure settings written to the node's keystore before it starts (e.g. `{ 'aside.api_key': '…' }`). */
  keystore?: Record<string, string>;
}

export interface LocalNode {
  url: string;
  port: number;
  /** The launcher's pid, which is also the process group of launcher + server JVM. */
  pid: number;
  dir: string;
  version: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie (a zombie whose parent is gone can linger where PID 1 does not reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/** SIGTERM the group, wait up to `graceMs` for every given pid to end, then SIGKILL. */
export async function stopProcessGroup(pgid: number, pids: number[], graceMs = 30000): Promise<void> {
  killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (![pgid, ...pids].some(isAlive)) return;
    await sleep(200);
  }
  log.warn({ pgid }, 'Elasticsearch did not stop after SIGTERM; killing it');
  killGroup(pgid, 'SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function writeConfig(home: string, dir: string, port: number, transportPort: number, heap: string, extra: Record<string, string | number | boolean> = {}): string {
  const conf = path.join(dir, 'conf');
  for (const d of [conf, path.join(dir, 'data'), path.join(dir, 'logs'), path.join(dir, 'tmp'), path.join(conf, 'jvm.options.d')]) fs.mkdirSync(d, { recursive: true });
  for (const f of ['jvm.options', 'log4j2.properties']) fs.copyFileSync(path.join(home, 'config', f), path.join(conf, f));
  const settings: Record<string, string | number | boolean> = {
    'cluster.name': 'aside-local',
    'node.name': 'aside-local',
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': port,
    'transport.port': transportPort,
    'path.data': path.join(dir, 'data'),
    'path.logs': path.join(dir, 'logs'),
    'xpack.security.enabled': false,
    // A throwaway dev node: never turn indexes read-only because the disk is fuller than production would like.
    'cluster.routing.allocation.disk.threshold_enabled': false,
    ...extra,
  };
  fs.writeFileSync(
    path.join(conf, 'elasticsearch.yml'),
    Object.entries(settings)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n') + '\n',
  );
  fs.writeFileSync(path.join(conf, 'jvm.options.d', 'aside.options'), `-Xms${heap}\n-Xmx${heap}\n`);
  return conf;
}

/** `elasticsearch-keystore create` + `add --stdin` for each secure setting, in the node's own config dir. */
function writeKeystore(home: string, conf: string, javaHome: string, secrets: Record<string, string>): void {
  const tool = path.join(home, 'bin', 'elasticsearch-keystore');
  const env = { ...process.env, ES_JAVA_HOME: javaHome, ES_PATH_CONF: conf, JAVA_HOME: '' };
  execFileSync(tool, ['create'], { env, stdio: 'ignore' });
  for (const [name, value] of Object.entries(secrets)) execFileSync(tool, ['add', '--stdin', '--force', name], { env, input: value, stdio: ['pipe', 'ignore', 'pipe'] });
}

function logTail(file: string, chars = 3000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-chars);
  } catch {
    return '(no log)';
  }
}

/** Polls cluster health until green/yellow; resolves false if `deadline` passes first. */
export async function waitForHealth(url: string, deadline: number, stillRunning: () => boolean = () => true): Promise<boolean> {
  while (Date.now() < deadline) {
    if (!stillRunning()) return false;
    try {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(5000) });
      if (res.ok) {
        const body = (await res.json()) as { status?: string };
        if (body.status === 'green' || body.status === 'yellow') return true;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(500);
  }
  return false;
}

/** Starts a node and resolves once it reports green or yellow health. */
export async function startLocalNode(opts: LocalNodeOptions = {}): Promise<LocalNode> {
  const version = opts.version ?? esVersion();
  const javaHome = findJavaHome();
  const runAs = runAsUser();
  let home = await homeWithPlugins(await ensureDistribution(version), opts.plugins ?? [], javaHome);
  // As root, Elasticsearch runs as another user, who must reach the distribution and the node's directory.
  if (runAs) home = await reachableHome(runAs, home);
  const ownDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join((runAs && reachableBase(runAs)) || os.tmpdir(), 'aside-es-'));
  const port = opts.port ?? (await freePort());
  const transportPort = await freePort();
  const heap = opts.heap ?? setting('esHeap') ?? '512m';
  const conf = writeConfig(home, dir, port, transportPort, heap, opts.settings);
  if (opts.keystore) writeKeystore(home, conf, javaHome, opts.keystore);
  const pidFile = path.join(dir, 'es.pid');
  fs.rmSync(pidFile, { force: true });
  const consoleLog = path.join(dir, 'logs', 'console.log');

  if (runAs) {
    chownTree(dir, runAs.uid, runAs.gid);
    assertWritableDir(runAs, dir);
  }
  const bin = path.join(home, 'bin', 'elasticsearch');
  const [cmd, args] = runAs ? ['setpriv', [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', bin, '-p', pidFile]] : [bin, ['-p', pidFile]];
  const env: NodeJS.ProcessEnv = { ...process.env, ES_JAVA_HOME: javaHome, ES_PATH_CONF: conf, ES_TMPDIR: path.join(dir, 'tmp') };
  delete env.JAVA_HOME;
  delete env.ES_JAVA_OPTS;

  const out = fs.openSync(consoleLog, 'a');
  const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code ?? -1));
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  const pgid = child.pid;
  if (pgid === undefined) throw new AsideError('unavailable', `could not start ${cmd}: ${(await spawnError).message}`);

  // A test node must not outlive the test process, even on a crash.
  const onExit = () => killGroup(pgid, 'SIGKILL');
  if (opts.detached) child.unref();
  else process.on('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  log.info({ url, dir, version, runAs: runAs?.user }, 'starting Elasticsearch');
  const timeoutMs = opts.startTimeoutMs ?? setting('esStartTimeoutMs') ?? 120000;
  const healthy = await waitForHealth(url, Date.now() + timeoutMs, () => exited === undefined);
  const serverPid = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : undefined);

  const stop = async () => {
    const spid = serverPid();
    await stopProcessGroup(pgid, spid ? [spid] : []);
    process.off('exit', onExit);
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  };

  if (!healthy) {
    const why = exited !== undefined ? `exited with code ${exited}` : `did not report green/yellow health within ${Math.round(timeoutMs / 1000)}s`;
    const tail = logTail(consoleLog);
    await stop().catch(() => undefined);
    throw new AsideError('unavailable', `local Elasticsearch ${version} on ${url} ${why}. Last log lines:\n${tail}`);
  }
  return { url, port, pid: pgid, dir, version, stop };
}

// ---- The one long-lived node that `npm run es -- start|stop|status` manages, across processes. ----

export const managedNodeDir = (): string => path.join(esRootDir(), 'node');

interface NodeState {
  pid: number;
  port: number;
  url: string;
  version: string;
  startedAt: string;
}

// The state file's place is defined beside its reader (commands find the node through it).
const stateFile = managedNodeStateFile;
const portFile = () => path.join(managedNodeDir(), 'port');
const pidFileOf = () => path.join(managedNodeDir(), 'es.pid');

function readState(): NodeState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as NodeState;
  } catch {
    return undefined;
  }
}

function clearState(): void {
  for (const f of [stateFile(), portFile(), pidFileOf()]) fs.rmSync(f, { force: true });
}

export interface NodeStatus {
  running: boolean;
  url?: string;
  pid?: number;
  version?: string;
  health?: string;
  dir: string;
}

export async function managedNodeStatus(): Promise<NodeStatus> {
  const dir = managedNodeDir();
  const st = readState();
  if (!st || !isAlive(st.pid)) return { running: false, dir };
  let health = 'unreachable';
  try {
    const res = await fetch(`${st.url}/_cluster/health`, { signal: AbortSignal.timeout(5000) });
    health = ((await res.json()) as { status?: string }).status ?? `HTTP ${res.status}`;
  } catch {
    /* starting or hung */
  }
  return { running: true, url: st.url, pid: st.pid, version: st.version, health, dir };
}

/** Starts the managed node (data kept in $ASIDE_HOME/elasticsearch/node) unless it already runs. */
export async function startManagedNode(opts: { port?: number } = {}): Promise<NodeStatus & { alreadyRunning: boolean }> {
  const current = await managedNodeStatus();
  if (current.running) return { ...current, alreadyRunning: true };
  clearState();
  const envPort = setting('esPort');
  // The Aside plugin is installed when it has been built (`npm run es -- plugin build`).
  const zip = pluginZipPath();
  const plugins = fs.existsSync(zip) ? [zip] : [];
  const asideUrl = setting('esPluginAsideUrl');
  const node = await startLocalNode({ dir: managedNodeDir(), port: opts.port ?? envPort, detached: true, plugins, settings: asideUrl ? { 'aside.url': asideUrl } : {} });
  const state: NodeState = { pid: node.pid, port: node.port, url: node.url, version: node.version, startedAt: new Date().toISOString() };
  fs.writeFileSync(stateFile(), JSON.stringify(state, null, 2) + '\n');
  fs.writeFileSync(portFile(), `${node.port}\n`);
  return { ...(await managedNodeStatus()), alreadyRunning: false };
}

export async function stopManagedNode(): Promise<{ stopped: boolean; pid?: number }> {
  const st = readState();
  if (!st || !isAlive(st.pid)) {
    clearState();
    return { stopped: false };
  }
  const spid = fs.existsSync(pidFileOf()) ? Number(fs.readFileSync(pidFileOf(), 'utf8').trim()) : undefined;
  await stopProcessGroup(st.pid, spid ? [spid] : []);
  clearState();
  return { stopped: true, pid: st.pid };
}
