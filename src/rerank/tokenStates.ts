/**
 * Token states as late interaction stores and scores them: every token vector scaled to unit length,
 * then quantised to int8 with its own scale (v ≈ values * scale). Per-vector scales keep cosines
 * within ~1e-3 of float32 at a quarter of the bytes.
 */
export interface QuantizedStates {
  tokens: number;
  dims: number;
  /** tokens × dims, row-major. */
  values: Int8Array;
  /** One per token. */
  scales: Float32Array;
}

/** Unit-length copies of each `dims`-sized row of `states`. */
export function unitRows(states: Float32Array, dims: number): Float32Array {
  const out = new Float32Array(states.length);
  for (let off = 0; off < states.length; off += dims) {
    let s = 0;
    for (let d = 0; d < dims; d++) s += states[off + d] * states[off + d];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dims; d++) out[off + d] = states[off + d] * inv;
  }
  return out;
}

/** Symmetric per-vector int8: scale = max|v| / 127, q = round(v / scale), ties away from zero (as the Python reference). */
export function quantize(unit: Float32Array, dims: number): QuantizedStates {
  const tokens = unit.length / dims;
  const values = new Int8Array(unit.length);
  const scales = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    const off = t * dims;
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(unit[off + d]));
    const scale = Math.max(max, 1e-12) / 127;
    scales[t] = scale;
    for (let d = 0; d < dims; d++) {
      const x = unit[off + d] / scale;
      values[off + d] = Math.max(-127, Math.min(127, Math.sign(x) * Math.floor(Math.abs(x) + 0.5)));
    }
  }
  return { tokens, dims, values, scales };
}

/** Bytes one stored text takes: its scales, then its int8 values. */
export const storedBytes = (s: { tokens: number; dims: number }): number => s.tokens * 4 + s.tokens * s.dims;
