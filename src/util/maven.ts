import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { AsideError } from '../errors';
import { setting } from '../config';

/**
 * `mvn dependency:copy` of one artifact into `outDir`, through the user's Maven setup (mirrors,
 * proxies, the ~/.m2 cache). Maven's download lines are echoed as this step's progress.
 * Resolves to the copied file's path.
 */
export function mavenCopy(coords: string, packaging: 'jar' | 'zip', outDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const mvn = setting('mvn') ?? 'mvn';
    const args = ['-B', 'dependency:copy', `-Dartifact=${coords}:${packaging}`, `-DoutputDirectory=${outDir}`, '-Dmdep.useBaseVersion=true'];
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (buf: Buffer) => {
      const text = buf.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (/Download(ing|ed)/.test(line)) process.stderr.write(`  ${line.trim()}\n`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new AsideError('unavailable', `could not run '${mvn}' (is Maven installed?): ${err.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new AsideError('unavailable', `mvn dependency:copy ${coords}:${packaging} failed (exit ${code}):\n${tail}`));
      const file = fs.readdirSync(outDir).find((f) => f.endsWith(`.${packaging}`));
      if (!file) return reject(new AsideError('internal', `mvn reported success but no .${packaging} is in ${outDir}`));
      resolve(path.join(outDir, file));
    });
  });
}
