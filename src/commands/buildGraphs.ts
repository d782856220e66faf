import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { graphsDir, REPO_ROOT, shippedTasksDir } from '../paths';
import { hashFile, recordFileHash } from '../models/verifyFiles';

/**
 * `modules:graphs [--tasks DIR] [backbone/kind-role ...]`: builds the ONNX graphs that task modules
 * run on, with training/'s exporter (Python, from training/install.sh). Graphs hold a full backbone
 * copy (~90 MB), so they are built here rather than committed. Existing graphs are kept.
 */
export default async function buildGraphsCommand(args: string[]): Promise<void> {
  const wanted = new Set(args.filter((a) => !a.startsWith('--')));
  const tasksDir = args.includes('--tasks') ? args[args.indexOf('--tasks') + 1] : shippedTasksDir();
  if (fs.existsSync(tasksDir)) {
    for (const name of fs.readdirSync(tasksDir)) {
      const manifest = path.join(tasksDir, name, 'manifest.json');
      if (fs.existsSync(manifest)) wanted.add(String(JSON.parse(fs.readFileSync(manifest, 'utf8')).graph.file).replace(/\.onnx$/, ''));
    }
  }
  wanted.delete(tasksDir);
  const python = path.join(REPO_ROOT, 'training', '.venv', 'bin', 'python');
  for (const g of [...wanted].sort()) {
    const m = /^([^/]+)\/(.+)-(retriever|reranker)$/.exec(g);
    if (!m) throw new Error(`'${g}' is not <backbone>/<kind>-<role>`);
    const out = path.join(graphsDir(), `${g}.onnx`);
    if (fs.existsSync(out)) {
      process.stderr.write(`graph ${g}: present\n`);
      continue;
    }
    if (!fs.existsSync(python)) throw new Error(`graph ${g} is missing and training/.venv is not installed: run \`bash training/install.sh\``);
    process.stderr.write(`graph ${g}: exporting…\n`);
    const r = spawnSync(python, ['-m', 'aside_training.export_graph', '--backbone', m[1], '--kind', m[2], '--role', m[3]], { cwd: path.join(REPO_ROOT, 'training'), stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`export of graph ${g} failed (exit ${r.status})`);
    // The graph's hash as built: serving refuses the file if its bytes change afterwards (models/verifyFiles.ts).
    await recordFileHash(out, await hashFile(out));
  }
}
