import fs from 'node:fs';
import path from 'node:path';
import { asideHome } from '../../../paths';

/**
 * Where `npm run es -- start` (tools/elasticsearch/localNode.ts) records the managed local node:
 * read here so that commands can find that node without depending on the tooling that runs it.
 */
export const managedNodeStateFile = (): string => path.join(asideHome(), 'elasticsearch', 'node', 'node.json');

/** The managed local node's URL when its process is alive, else undefined. */
export function localNodeUrl(): string | undefined {
  try {
    const st = JSON.parse(fs.readFileSync(managedNodeStateFile(), 'utf8')) as { pid?: number; url?: string };
    if (!st.pid || !st.url) return undefined;
    process.kill(st.pid, 0);
    return st.url;
  } catch {
    return undefined;
  }
}
