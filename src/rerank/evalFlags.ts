import { BlendWeights } from '../tasks/rerankSettings';

/** `--blend false` or `--blend rerank=1,bm25=0.5,dense=0` as the search request's `rerank.blend`. */
export function parseBlendFlag(flag: string): BlendWeights | false {
  if (flag === 'false') return false;
  const weights: Record<string, number> = {};
  for (const part of flag.split(',')) {
    const [k, v] = part.split('=');
    if (!['rerank', 'dense', 'bm25'].includes(k) || v === undefined || !Number.isFinite(Number(v))) throw new Error(`--blend: expected rerank=W[,bm25=W][,dense=W] or false, got '${flag}'`);
    weights[k] = Number(v);
  }
  return BlendWeights.parse({ rerank: 0, ...weights });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
