import crypto from 'node:crypto';
import { GraphInput } from '../inference/graphRunner';

/** Inputs every graph has; everything else a task graph takes is a module tensor. */
export const TEXT_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);

export function moduleInputs(inputs: GraphInput[]): GraphInput[] {
  return inputs.filter((i) => !TEXT_INPUTS.has(i.name));
}

/**
 * The graph signature a manifest pins (docs/module-format.md): sha256 hex of the module inputs as
 * `name:dtype:rank` lines, sorted, joined by '\n'. It changes exactly when a module made for one
 * graph would not fit another. Same definition as training/aside_training/export_graph.py.
 */
export function graphSignature(inputs: { name: string; dtype: string; rank: number }[]): string {
  const lines = inputs.map((i) => `${i.name}:${i.dtype}:${i.rank}`).sort();
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

export function signatureOfGraph(inputs: GraphInput[]): string {
  return graphSignature(moduleInputs(inputs).map((i) => ({ name: i.name, dtype: i.type, rank: i.shape.length })));
}
