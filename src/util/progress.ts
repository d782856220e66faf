import cliProgress from 'cli-progress';

/** A progress bar on stderr for long work; plain periodic lines when stderr is not a TTY (CI logs). */
export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

export function progress(label: string, total: number, unit = 'items'): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} eta {eta_formatted}`, stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() };
  }
  let done = 0;
  let lastPct = -1;
  const report = () => {
    const pct = total > 0 ? Math.floor((done / total) * 10) * 10 : 100;
    if (pct !== lastPct) {
      lastPct = pct;
      process.stderr.write(`${label}: ${pct}% (${done}/${total} ${unit})\n`);
    }
  };
  report();
  return {
    tick: (n = 1) => {
      done += n;
      report();
    },
    stop: () => {
      done = total;
      report();
    },
  };
}
