import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../src/paths';
import { setting } from '../../src/config';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { esVersion, findJavaHome } from './distribution';
import { homeOnce } from './homeOnce';

/**
 * The Aside plugin for Elasticsearch (plugins/elasticsearch, a Maven project): built with Maven for one
 * Elasticsearch version, and installed into a private copy of the distribution (hard links, so it costs
 * little) keyed by the zip's checksum, so the shared distribution stays plugin-free and a rebuilt zip
 * gets a fresh install.
 */
export const pluginProjectDir = (): string => path.join(REPO_ROOT, 'plugins', 'elasticsearch');
export const pluginZipPath = (version = esVersion()): string => path.join(pluginProjectDir(), 'target', `aside-elasticsearch-${version}.zip`);

const run = promisify(execFile);

/** `mvn package` with a JDK >= 21 (the server jar is Java 21 bytecode); resolves to the zip. */
export function buildPlugin(version = esVersion()): Promise<string> {
  const javaHome = findJavaHome(21);
  const mvn = setting('mvn') ?? 'mvn';
  const args = ['-B', '-q', 'package', `-Delasticsearch.version=${version}`];
  log.info({ mvn, javaHome, version }, 'building the Aside Elasticsearch plugin');
  return new Promise((resolve, reject) => {
    const child = spawn(mvn, args, { cwd: pluginProjectDir(), env: { ...process.env, JAVA_HOME: javaHome }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer) => (tail = (tail + b.toString()).slice(-6000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new AsideError('unavailable', `could not run '${mvn}' (is Maven installed?): ${err.message}`)));
    child.on('close', (code) => {
      const zip = pluginZipPath(version);
      if (code !== 0) return reject(new AsideError('unavailable', `building the Elasticsearch plugin failed (mvn exit ${code}):\n${tail}`));
      if (!fs.existsSync(zip)) return reject(new AsideError('internal', `mvn succeeded but ${zip} is missing`));
      resolve(zip);
    });
  });
}

/** Newest modification time (ms) of the plugin's sources and pom. */
function newestSource(dir = path.join(pluginProjectDir(), 'src')): number {
  let newest = fs.statSync(path.join(pluginProjectDir(), 'pom.xml')).mtimeMs;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** The built zip, (re)building it first when it is missing or older than a source file. */
export async function ensurePluginBuilt(version = esVersion()): Promise<string> {
  const zip = pluginZipPath(version);
  return fs.existsSync(zip) && fs.statSync(zip).mtimeMs >= newestSource() ? zip : buildPlugin(version);
}

const sha12 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 12);

/**
 * An Elasticsearch home with the given plugin zips installed (`elasticsearch-plugin install --batch`, which
 * grants the entitlements the plugin declares without asking). Built once per set of zips in a temporary
 * sibling, renamed into place.
 */
export async function homeWithPlugins(home: string, zips: string[], javaHome: string): Promise<string> {
  if (!zips.length) return home;
  const key = crypto.createHash('sha256').update(zips.map(sha12).join(',')).digest('hex').slice(0, 12);
  return homeOnce(`${home}+plugins-${key}`, async (tmp) => {
    const staged = path.join(tmp, 'home');
    // Hard links: the copy shares the distribution's files; the installer only adds new ones under plugins/.
    const src = fs.realpathSync(home);
    await run('cp', ['-al', src, staged]).catch(() => run('cp', ['-a', src, staged]));
    for (const zip of zips) {
      log.info({ zip, home }, 'installing Elasticsearch plugin');
      await run(path.join(staged, 'bin', 'elasticsearch-plugin'), ['install', '--batch', `file://${path.resolve(zip)}`], {
        env: { ...process.env, ES_JAVA_HOME: javaHome, ES_PATH_CONF: path.join(staged, 'config'), JAVA_HOME: '' },
      }).catch((e: Error & { stderr?: string }) => {
        throw new AsideError('unavailable', `elasticsearch-plugin install ${zip} failed: ${e.stderr || e.message}`);
      });
    }
    return staged;
  });
}
