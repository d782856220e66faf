import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths';
import { resolveModel } from '../../src/models/catalog';
import { hfLayout } from './hfDir';
import { startServer, Served } from './procs';
import { PEER_SCRIPT, PYTHON } from './python';
import { SERVE_MALLOC_ENV } from './serveEnv';

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/**
 * `npm run serve` as a user would run it (with the script's malloc setting), on an ephemeral loopback
 * port, with extra ASIDE_* env; `baseEnv` replaces this process's environment and the script's setting.
 */
export function startAside(opts: { collection?: string; tasksDir: string; env?: Record<string, string>; baseEnv?: NodeJS.ProcessEnv }): Promise<Served> {
  const args = [path.join(REPO_ROOT, 'src', 'cli.ts'), 'serve', '--port', '0', '--tasks-dir', opts.tasksDir, ...(opts.collection ? ['--collection', opts.collection] : [])];
  return startServer(TSX, args, {
    cwd: REPO_ROOT,
    env: { ...(opts.baseEnv ?? { ...process.env, ...SERVE_MALLOC_ENV }), ASIDE_LOG_LEVEL: 'info', ASIDE_CACHE_SIZE: '0', ...opts.env },
    portFrom: (line) => {
      const m = /"msg":"listening"/.test(line) && /"url":"http:\/\/[^:]+:(\d+)"/.exec(line);
      return m ? Number(m[1]) : undefined;
    },
  });
}

/** Python http.server + tokenizers + onnxruntime on the same files (bench/peers/ort_peer.py serve). */
export function startPythonPeer(
  tmp: string,
  cfg: { docs: { id: string; text: string }[]; reranker?: { graph: string; externalData?: { path: string; file: string }; weights: string; maxLen: number } },
): Promise<Served> {
  const spec = resolveModel(undefined);
  const file = path.join(tmp, `py-peer-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify({ model: spec.modelPath, tokenizer: spec.tokenizerPath, queryMaxLen: spec.maxLength, docMaxLen: spec.maxLength, ...cfg }));
  return startServer(PYTHON, [PEER_SCRIPT, 'serve', file]);
}

/** transformers.js feature-extraction pipeline behind node:http (bench/peers/tfjsServer.ts). */
export function startTransformersPeer(tmp: string, docs: { id: string; text: string }[]): Promise<Served> {
  const spec = resolveModel(undefined);
  const root = hfLayout(path.dirname(spec.modelPath), spec.id);
  const file = path.join(tmp, `tfjs-peer-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify({ hfDir: root, name: spec.id, docs }));
  return startServer(TSX, [path.join(REPO_ROOT, 'bench', 'peers', 'tfjsServer.ts'), file]);
}
