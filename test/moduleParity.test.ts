import fs from 'node:fs';
import path from 'node:path';
import { shippedTasksDir } from '../src/paths';
import { startServer, post, TestServer } from './helpers/server';
import { readFixture } from './helpers/fixtures';

/**
 * The shipped task modules, loaded by the server from their committed graph templates and run over
 * HTTP, against the outputs PyTorch (training's forward pass) gave for the same inputs. The fixtures
 * are committed (training's node_fixtures writes them; CI re-checks them in the training step).
 */
const manifestOf = (d: string) => path.join(shippedTasksDir(), d, 'manifest.json');
const SHIPPED = fs.readdirSync(shippedTasksDir()).filter((d) => fs.existsSync(manifestOf(d)));
/** Module tasks (a graph and weights); a late-interaction task runs on the bare backbone and has its own tests. */
const TASKS = SHIPPED.filter((d) => JSON.parse(fs.readFileSync(manifestOf(d), 'utf8')).graph);

describe('shipped task modules: Node server vs PyTorch', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ collection: undefined });
  });
  afterAll(async () => s.close());

  it('serves every shipped task', async () => {
    const ids = ((await (await fetch(`${s.url}/v1/tasks`)).json()) as { tasks: { id: string }[] }).tasks.map((t) => t.id);
    expect(ids.sort()).toEqual(['base', ...SHIPPED].sort());
  });

  it.each(TASKS)('%s matches within 1e-4', async (id) => {
    const fx = readFixture(`shipped-tasks/${id}.json`);
    let worst = 0;
    if (fx.role === 'retriever') {
      for (const item of fx.items) {
        const r = await post(`${s.url}/v1/embed`, { inputs: [item.text], task: fx.task, input_type: item.kind });
        expect(r.status).toBe(200);
        expect(r.headers.get('x-aside-task-version')).toBe(fx.version);
        (r.json[0] as number[]).forEach((x, d) => (worst = Math.max(worst, Math.abs(x - item.embedding[d]))));
      }
    } else {
      for (let i = 0; i < fx.pairs.length; i++) {
        const [query, doc] = fx.pairs[i];
        const r = await post(`${s.url}/v1/rerank`, { query, documents: [doc], task: fx.task });
        expect(r.status).toBe(200);
        worst = Math.max(worst, Math.abs(r.json[0].relevance_score - fx.scores[i]));
      }
    }
    expect(worst).toBeLessThanOrEqual(fx.tolerance);
  });
});
