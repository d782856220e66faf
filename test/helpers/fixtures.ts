import fs from 'node:fs';
import path from 'node:path';
import { TokenBatch } from '../../src/text/tokenizer';

/** Committed reference outputs (written by training's `python -m aside_training.node_fixtures`). */
export const FIXTURES = path.join(__dirname, '..', 'fixtures');

export function readFixture<T = any>(rel: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, rel), 'utf8')) as T;
}

/** A base64 float32 little-endian vector, as the fixtures store embeddings. */
export function float32FromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Token ids of a fixture batch, one row per text, padded to one length (as the graph-parity fixtures store them). */
export interface FixtureRows {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
}

/** Rows `pick` (default: all) of a fixture batch at its padded length; a single row alone, without padding. */
export function fixtureBatch(b: FixtureRows, pick: number[] = [...b.input_ids.keys()]): TokenBatch {
  const len = pick.length === 1 ? b.attention_mask[pick[0]].reduce((a, x) => a + x, 0) : b.input_ids[0].length;
  const flat = (rows: number[][]) => BigInt64Array.from(pick.flatMap((i) => rows[i].slice(0, len)).map(BigInt));
  return {
    inputIds: flat(b.input_ids),
    attentionMask: flat(b.attention_mask),
    tokenTypeIds: flat(b.token_type_ids),
    batch: pick.length,
    seqLen: len,
    tokens: pick.reduce((a, i) => a + b.attention_mask[i].reduce((s, x) => s + x, 0), 0),
  };
}
