/**
 * Entry of one inference worker thread. It owns a GraphRunner (its own sessions and module tensors)
 * and answers the pool's messages; onnxruntime's blocking run() happens here, off the event loop.
 */
import { parentPort } from 'node:worker_threads';
import { GraphRunner } from './graphRunner';
import type { PoolMessage, PoolReply } from './workerPool';

const runner = new GraphRunner();
const port = parentPort!;

async function handle(msg: PoolMessage): Promise<PoolReply> {
  switch (msg.op) {
    case 'loadGraph':
      return { id: msg.id, ok: true, value: await runner.loadGraph(msg.key, msg.path, msg.opts) };
    case 'loadModule':
      runner.loadModule(msg.key, msg.tensors);
      return { id: msg.id, ok: true };
    case 'unloadModule':
      runner.unloadModule(msg.key);
      return { id: msg.id, ok: true };
    case 'run':
      return { id: msg.id, ok: true, value: await runner.run(msg.req) };
    case 'close':
      await runner.close();
      return { id: msg.id, ok: true };
  }
}

port.on('message', (msg: PoolMessage) => {
  handle(msg).then(
    (reply) => {
      const transfer = msg.op === 'run' && Array.isArray(reply.value) ? (reply.value as Float32Array[]).map((a) => a.buffer as ArrayBuffer) : [];
      port.postMessage(reply, transfer);
    },
    (err: Error) => port.postMessage({ id: msg.id, ok: false, error: err.message } satisfies PoolReply),
  );
});
