import { RawTensor } from '../../src/inference/graphRunner';

/**
 * Module tensors from a 32-bit LCG, x <- (1664525 x + 1013904223) mod 2^32, value (x / 2^32 - 0.5) * scale,
 * tensors in the given order, row-major: exactly what training's node_fixtures.lcg_tensors draws.
 */
export function lcgTensors(specs: { name: string; shape: number[] }[], seed: number, scale: number): Record<string, RawTensor> {
  let x = seed >>> 0;
  const out: Record<string, RawTensor> = {};
  for (const { name, shape } of specs) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      data[i] = (x / 2 ** 32 - 0.5) * scale;
    }
    out[name] = { dims: shape, data };
  }
  return out;
}
