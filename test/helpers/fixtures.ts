import fs from 'node:fs';
import path from 'node:path';

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
