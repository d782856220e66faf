import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { asideHome } from '../../src/paths';
import { mavenCopy } from '../../src/util/maven';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { setting } from '../../src/config';
import { homeOnce } from './homeOnce';

/**
 * The runnable Elasticsearch that tests and `npm run es` use: the integ-test-zip distribution from Maven
 * Central. 9.3.0 itself is not published there; 9.3.2 is the nearest 9.3 release that is. It is a
 * minimal build (modules: transport-netty4, x-pack-core, x-pack-security, apm): BM25 with the standard
 * analyzer, dense_vector and kNN work; language analyzers (analysis-common) and the inference API
 * (x-pack-inference: `_inference`, semantic_text, text_similarity_reranker) are not in it.
 */
export const DEFAULT_ES_VERSION = '9.3.2';
const MAVEN_GROUP = 'org.elasticsearch.distribution.integ-test-zip';

export const esVersion = (): string => setting('esVersion') ?? DEFAULT_ES_VERSION;
export const esRootDir = (): string => path.join(asideHome(), 'elasticsearch');
export const esHomeDir = (version = esVersion()): string => path.join(esRootDir(), `elasticsearch-${version}`);

/** Major version of a JDK home, read from its `release` file (JAVA_VERSION="21.0.2"); undefined if unreadable. */
export function jdkMajor(home: string): number | undefined {
  try {
    const release = fs.readFileSync(path.join(home, 'release'), 'utf8');
    const m = /^JAVA_VERSION="(\d+)(?:\.(\d+))?/m.exec(release);
    if (!m) return undefined;
    // Java 8 and older report "1.8.0".
    return m[1] === '1' ? Number(m[2]) : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * A JDK ≥ 21 for Elasticsearch 9: ES_JAVA_HOME, then JAVA_HOME, then the newest one under /usr/lib/jvm
 * (ASIDE_JVM_DIR overrides the directory scanned).
 */
export function findJavaHome(minMajor = 21): string {
  const tried: string[] = [];
  for (const name of ['ES_JAVA_HOME', 'JAVA_HOME'] as const) {
    const home = process.env[name];
    if (!home) continue;
    const major = jdkMajor(home);
    if (major !== undefined && major >= minMajor && fs.existsSync(path.join(home, 'bin', 'java'))) return home;
    tried.push(`${name}=${home} (Java ${major ?? '?'})`);
  }
  const jvmDir = setting('jvmDir') ?? '/usr/lib/jvm';
  const candidates = fs.existsSync(jvmDir)
    ? fs
        .readdirSync(jvmDir)
        .map((d) => path.join(jvmDir, d))
        .filter((d) => !fs.lstatSync(d).isSymbolicLink() && fs.existsSync(path.join(d, 'bin', 'java')))
        .map((d) => ({ home: d, major: jdkMajor(d) ?? 0 }))
    : [];
  const best = candidates.filter((c) => c.major >= minMajor).sort((a, b) => b.major - a.major)[0];
  if (best) return best.home;
  tried.push(...candidates.map((c) => `${c.home} (Java ${c.major || '?'})`));
  throw new AsideError('unavailable', `Elasticsearch 9 needs a JDK >= ${minMajor}; none found (tried: ${tried.join(', ') || `nothing under ${jvmDir}`}). Install one or set ES_JAVA_HOME.`);
}

/** Extracts a zip keeping the Unix permission bits (bin/elasticsearch must stay executable). */
export function extractZip(zipFile: string, outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`cannot open ${zipFile}`));
      zip.on('entry', (ze: yauzl.Entry) => {
        const target = path.resolve(outDir, ze.fileName);
        if (!target.startsWith(path.resolve(outDir) + path.sep)) return reject(new Error(`zip entry escapes target: ${ze.fileName}`));
        const mode = (ze.externalFileAttributes >>> 16) & 0o777;
        if (ze.fileName.endsWith('/')) {
          fs.mkdirSync(target, { recursive: true });
          return zip.readEntry();
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        zip.openReadStream(ze, (e2, stream) => {
          if (e2 || !stream) return reject(e2 ?? new Error(`cannot read ${ze.fileName}`));
          const out = fs.createWriteStream(target, { mode: mode || 0o644 });
          stream.pipe(out);
          out.on('error', reject);
          out.on('finish', () => {
            if (mode) fs.chmodSync(target, mode);
            zip.readEntry();
          });
        });
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/**
 * Returns the Elasticsearch home for `version`, fetching it through Maven and extracting it on first use.
 * Work happens in a temporary sibling that is renamed into place, so an interrupted fetch leaves nothing.
 */
export function ensureDistribution(version = esVersion()): Promise<string> {
  return homeOnce(esHomeDir(version), async (tmp) => {
    const coords = `${MAVEN_GROUP}:elasticsearch:${version}`;
    log.info({ maven: coords }, 'fetching Elasticsearch distribution');
    const zip = await mavenCopy(coords, 'zip', tmp);
    const staged = path.join(tmp, 'x');
    await extractZip(zip, staged);
    const inner = path.join(staged, `elasticsearch-${version}`);
    if (!fs.existsSync(path.join(inner, 'bin', 'elasticsearch'))) throw new AsideError('internal', `${zip} has no elasticsearch-${version}/bin/elasticsearch`);
    return inner;
  });
}
