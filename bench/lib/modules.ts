import { GraphInfo, RawTensor } from '../../src/inference/graphRunner';
import { moduleInputs } from '../../src/tasks/signature';

/**
 * Seeded random module tensors for a graph's module inputs (symbolic dims — bottleneck, rank, prefix
 * length — set to `size`): what a trainer would export, without waiting for training. Speed does not
 * depend on the values, only on the shapes.
 */
export function randomModule(info: GraphInfo, size = 8, seed = 1, scale = 0.02): Record<string, RawTensor> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * scale;
  const out: Record<string, RawTensor> = {};
  for (const input of moduleInputs(info.inputs)) {
    const dims = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : size));
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rand();
    out[input.name] = { dims, data };
  }
  return out;
}

export const moduleParams = (m: Record<string, RawTensor>): number => Object.values(m).reduce((a, t) => a + t.data.length, 0);
