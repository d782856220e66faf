import { ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';

/** A server child process that prints {"port": N} as JSON on a stdout line once it listens. */
export interface Served {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startServer(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; portFrom?: (line: string) => number | undefined; cwd?: string } = {},
): Promise<Served> {
  const proc = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const portFrom =
    opts.portFrom ??
    ((line: string) => {
      try {
        return JSON.parse(line).port;
      } catch {
        return undefined;
      }
    });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')}: no port within ${opts.timeoutMs ?? 180000} ms\n${stderr}`)), opts.timeoutMs ?? 180_000);
    const rl = readline.createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      const p = portFrom(line);
      if (p) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code} before listening\n${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** Starts servers side by side; if any fails, stops the others and throws its error. */
export async function startAll(starting: Promise<Served>[]): Promise<Served[]> {
  const settled = await Promise.allSettled(starting);
  const ok = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((s) => s.stop()));
    throw failed.reason;
  }
  return ok;
}
