import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../../src/paths';

/** The training venv's Python (made by training/install.sh), else python3 on PATH. */
export function python(): string {
  const venv = path.join(REPO_ROOT, 'training', '.venv', 'bin', 'python');
  return fs.existsSync(venv) ? venv : 'python3';
}

export function runPythonJson<T>(script: string, input: unknown, args: string[] = []): T {
  const r = spawnSync(python(), [script, ...args], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
