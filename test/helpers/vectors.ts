/** Deterministic unit vectors for index tests that need no model (mulberry32: exact in 32-bit integer math). */
export function seededVectors(count: number, dims: number, seed = 7): Float32Array[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: dims }, rand);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}
