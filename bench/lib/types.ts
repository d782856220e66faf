/** One line of a plot: x and y of equal length. */
export interface Series {
  label: string;
  x: number[];
  y: number[];
}

export interface Plot {
  /** File name under docs/img/ (perf-*.png). */
  file: string;
  title: string;
  xlabel: string;
  ylabel: string;
  logx?: boolean;
  series: Series[];
}

export interface Table {
  header: string[];
  rows: (string | number)[][];
}

/** What one scenario hands back: Aside's figures, the peer's, their ratio, and how they were made. */
export interface Entry {
  scenario: string;
  title: string;
  /** Who Aside is compared with in `ratio`. */
  peer: string;
  target: string;
  /** true/false when the target is checked; null when the scenario could not decide it. */
  met: boolean | null;
  aside: Record<string, number>;
  peers: Record<string, Record<string, number>>;
  /** Aside relative to the peer; each key says which way is better. */
  ratio: Record<string, number>;
  tables: { caption: string; table: Table }[];
  plots: Plot[];
  notes: string[];
  seconds: number;
}

export interface Settings {
  quick: boolean;
  /** Smoke-test size: every loop runs once, on a handful of inputs. */
  tiny: boolean;
  /** Scratch directory removed at the end of the run. */
  tmp: string;
}

export interface Scenario {
  id: string;
  title: string;
  run(s: Settings, log: (msg: string) => void): Promise<Entry>;
}
