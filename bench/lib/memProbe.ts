/**
 * Child process for the memory figures of scenario 5 (a fresh process per measurement, so nothing
 * else in the bench inflates the resident set). Prints one JSON line {rss_mb, tasks, copies}.
 *
 *   memProbe.ts TASKS_DIR [COPIES MODEL_COPY...]   start Aside (2 workers) with every task under
 *   TASKS_DIR, then open COPIES extra onnxruntime sessions, one per given full-model file.
 */
import * as ort from 'onnxruntime-node';
import { Aside } from '../../src/aside';
import { loadConfig } from '../../src/config';

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 300));
  }
  return process.memoryUsage().rss / 2 ** 20;
}

async function main(): Promise<void> {
  const [tasksDir, copiesArg, ...files] = process.argv.slice(2);
  const app = await Aside.start(loadConfig({ port: 0, workers: 2, tasksDir }));
  const sessions: ort.InferenceSession[] = [];
  const copies = Number(copiesArg ?? 0);
  for (let i = 0; i < copies; i++) sessions.push(await ort.InferenceSession.create(files[i % files.length], { intraOpNumThreads: 1, interOpNumThreads: 1 }));
  // One forward pass per copy, so its arena and pre-packed weights are resident as in serving.
  const ids = new ort.Tensor('int64', BigInt64Array.from([101n, 7592n, 2088n, 102n]), [1, 4]);
  const mask = new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]);
  for (const s of sessions)
    await s.run({ input_ids: ids, attention_mask: mask, ...(s.inputNames.includes('token_type_ids') ? { token_type_ids: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]) } : {}) });
  await app.embed(['probe'], 'query');
  const rss = await settle();
  process.stdout.write(JSON.stringify({ rss_mb: rss, tasks: app.registry.list().length - 1, copies }) + '\n');
  for (const s of sessions) await s.release();
  await app.close();
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
