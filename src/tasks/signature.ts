import crypto from 'node:crypto';
import { GraphInput } from '../inference/graphRunner';

/** Inputs every graph has; everything else a task graph takes is a module tensor. */
export const TEXT_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);

export function moduleInputs(inputs: GraphInput[]): GraphInput[] {
  return inputs.filter((i) => !TEXT_INPUTS.has(i.name));
}

/**
 * The graph signature a manifest pins: sha256 of the module inputs sorted by name, one line each,
 * `name\tdtype\trank`, joined by newlines (docs/module-format.md). It changes exactly when a module
 * made for one graph would not fit another.
 */
export function graphSignature(inputs: { name: string; dtype: string; rank: number }[]): string {
  const lines = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((i) => `${i.name}\t${i.dtype}\t${i.rank}`);
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

export function signatureOfGraph(inputs: GraphInput[]): string {
  return graphSignature(moduleInputs(inputs).map((i) => ({ name: i.name, dtype: i.type, rank: i.shape.length })));
}
