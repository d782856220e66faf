/** Order statistics over repeated measurements. Every figure the bench reports goes through here. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
export const median = (xs: number[]): number => quantile(xs, 0.5);
export const p99 = (xs: number[]): number => quantile(xs, 0.99);
export const round = (x: number, d = 3): number => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);

/**
 * Runs `rounds` interleaved rounds of every contestant (order rotated each round so neither always
 * goes first on a shared machine), after `warmup` untimed rounds. Returns each contestant's samples.
 */
export async function interleave<K extends string>(contestants: Record<K, () => Promise<number | number[]>>, rounds: number, warmup = 1): Promise<Record<K, number[]>> {
  const keys = Object.keys(contestants) as K[];
  for (let w = 0; w < warmup; w++) for (const k of keys) await contestants[k]();
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    const order = keys.map((_, i) => keys[(i + r) % keys.length]);
    for (const k of order) {
      const v = await contestants[k]();
      out[k].push(...(Array.isArray(v) ? v : [v]));
    }
  }
  return out;
}

export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
