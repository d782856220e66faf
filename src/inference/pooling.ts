import { PoolingMode } from '../models/catalog';

/**
 * Pools last_hidden_state [batch, seq, dim] into one vector per row. Mean pooling counts only real
 * tokens (attention mask), which is what makes per-batch padding give the same result as no padding.
 */
export function pool(hidden: Float32Array, mask: BigInt64Array, batch: number, seqLen: number, dim: number, mode: PoolingMode, normalize: boolean): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    if (mode === 'cls') {
      v.set(hidden.subarray(b * seqLen * dim, b * seqLen * dim + dim));
    } else {
      let n = 0;
      for (let t = 0; t < seqLen; t++) {
        if (mask[b * seqLen + t] === 0n) continue;
        n++;
        const off = (b * seqLen + t) * dim;
        for (let d = 0; d < dim; d++) v[d] += hidden[off + d];
      }
      const inv = 1 / Math.max(n, 1e-9);
      for (let d = 0; d < dim; d++) v[d] *= inv;
    }
    if (normalize) l2normalize(v);
    out.push(v);
  }
  return out;
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/**
 * Each row's states of its real tokens (a row's tokens are a prefix: batches pad on the right), as a
 * fresh array per row so worker threads can transfer them.
 */
export function tokenStates(hidden: Float32Array, mask: BigInt64Array, batch: number, seqLen: number, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    let n = 0;
    while (n < seqLen && mask[b * seqLen + n] !== 0n) n++;
    out.push(hidden.slice(b * seqLen * dim, (b * seqLen + n) * dim));
  }
  return out;
}
