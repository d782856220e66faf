import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT } from '../../src/paths';

export const PYTHON = process.env.ASIDE_BENCH_PYTHON ?? path.join(REPO_ROOT, 'training', '.venv', 'bin', 'python');
export const PEER_SCRIPT = path.join(REPO_ROOT, 'bench', 'peers', 'ort_peer.py');

/** The Python peer in rpc mode: one request line in, one answer line out. */
export class PythonPeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterableIterator<string>;

  constructor() {
    this.proc = spawn(PYTHON, [PEER_SCRIPT, 'rpc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => process.stderr.write(`[py] ${d}`));
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async call<T = Record<string, unknown>>(msg: Record<string, unknown>): Promise<T> {
    this.proc.stdin.write(JSON.stringify(msg) + '\n');
    const { value, done } = await this.lines.next();
    if (done) throw new Error('python peer exited');
    const out = JSON.parse(value);
    if (!out.ok) throw new Error(`python peer: ${out.error}`);
    return out as T;
  }

  async close(): Promise<void> {
    this.proc.stdin.write(JSON.stringify({ op: 'quit' }) + '\n');
    this.proc.stdin.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
