import fs from 'node:fs';
import path from 'node:path';

const ready = (home: string) => fs.existsSync(path.join(home, 'bin', 'elasticsearch'));

/**
 * Makes the Elasticsearch home `home` once: `build(tmp)` works in a temporary sibling and returns the
 * directory to move into place, which is then renamed to `home`. An interrupted build leaves nothing
 * behind, and when another process finishes the same home first, its result is kept.
 */
export async function homeOnce(home: string, build: (tmp: string) => Promise<string>): Promise<string> {
  if (ready(home)) return home;
  fs.mkdirSync(path.dirname(home), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(home), `.tmp-${path.basename(home)}-`));
  try {
    const staged = await build(tmp);
    try {
      fs.renameSync(staged, home);
    } catch (e) {
      if (!ready(home)) throw e;
    }
    return home;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
