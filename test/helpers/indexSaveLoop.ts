/**
 * Child process for the crash test: saves the same index into one directory again and again, saying
 * so on stdout, until it is killed (kill -9 lands at an arbitrary point of a save).
 */
import { VectorIndex } from '../../src/index/vectorIndex';
import { seededVectors } from './vectors';

async function main(): Promise<void> {
  const [dir, count] = [process.argv[2], Number(process.argv[3])];
  const idx = VectorIndex.create('crash', 64, count, { test: 'crash' });
  seededVectors(count, 64).forEach((v, i) => idx.add(`d${i}`, v));
  for (let i = 0; ; i++) {
    process.stdout.write(`saving ${i}\n`);
    await idx.save(dir);
  }
}

void main();
