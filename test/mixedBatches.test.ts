import fs from 'node:fs';
import path from 'node:path';
import { GraphRunner, OutputSpec } from '../src/inference/graphRunner';
import { defaultSessionOptions } from '../src/inference/session';
import { resolveModel } from '../src/models/catalog';
import { resolveGraph } from '../src/tasks/graphFiles';
import { stackedFileOf } from '../src/tasks/stackedVariant';
import { templatesDir } from '../src/paths';
import { lcgTensors } from './helpers/seededModule';
import { fixtureBatch, FixtureRows, maxAbsDiff, readFixture } from './helpers/fixtures';

/**
 * Mixed-task batches on the committed stacked templates: every row of one forward pass over rows of
 * three tasks equals that row run alone, unpadded, with its own task on the kind's ordinary graph.
 */
interface Fixture {
  backbone: string;
  scale: number;
  batches: Record<'retriever' | 'reranker', FixtureRows>;
  graphs: Record<string, { seed: number; tensors: { name: string; shape: number[] }[] }>;
}

const fx = readFixture<Fixture>('graph-parity/all-MiniLM-L6-v2.json');
const spec = resolveModel(fx.backbone);
const backbone = { file: spec.modelPath, sha256: spec.modelSha256 };
const TOLERANCE = 1e-5;
/** Kinds the issue requires to mix in both roles; the rest are checked when their stacked template exists. */
const REQUIRED = ['iaa-l-retriever', 'iaa-l-reranker', 'lora-retriever', 'lora-reranker'];
const stackedExists = (name: string) => fs.existsSync(path.join(templatesDir(), fx.backbone, stackedFileOf(`${name}.onnx`)));
const mixable = Object.keys(fx.graphs).filter(stackedExists);

describe('mixed-task batches on stacked graphs', () => {
  const runner = new GraphRunner();
  afterAll(() => runner.close());

  it('has a stacked template for IAA-L and LoRA in both roles', () => {
    expect(mixable).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each(mixable)('%s: each row of a three-task batch equals its task run alone', async (name) => {
    const g = fx.graphs[name];
    const role = name.endsWith('-reranker') ? 'reranker' : 'retriever';
    const output: OutputSpec = role === 'retriever' ? { kind: 'embedding', pooling: 'mean', normalize: false } : { kind: 'scores' };
    await runner.loadGraph(name, resolveGraph(`${fx.backbone}/${name}.onnx`, backbone), defaultSessionOptions());
    await runner.loadGraph(`${name}:stacked`, resolveGraph(`${fx.backbone}/${stackedFileOf(`${name}.onnx`)}`, backbone), defaultSessionOptions());
    const tasks = ['t0', 't1', 't2'].map((t) => `${name}/${t}`);
    tasks.forEach((t, k) => runner.loadModule(t, lcgTensors(g.tensors, g.seed + 17 * k, fx.scale)));
    const b = fx.batches[role];
    // Every fixture row, then again in reverse: more rows than tasks, tasks used twice, padded rows.
    const pick = [...b.input_ids.keys(), ...[...b.input_ids.keys()].reverse()];
    const modules = pick.map((_, i) => tasks[(i * 2) % 3]);
    const values = (out: Float32Array[]) => (role === 'retriever' ? out.map((v) => Array.from(v)) : Array.from(out[0], (v) => [v]));
    const mixed = values(await runner.run({ graph: `${name}:stacked`, modules, batch: fixtureBatch(b, pick), output }));
    for (const [i, row] of pick.entries()) {
      const alone = values(await runner.run({ graph: name, module: modules[i], batch: fixtureBatch(b, [row]), output }))[0];
      expect(maxAbsDiff(mixed[i], alone)).toBeLessThanOrEqual(TOLERANCE);
    }
    // The tasks differ, so a row that took another task's module would have been caught.
    const other = values(await runner.run({ graph: name, module: tasks[1], batch: fixtureBatch(b, [pick[0]]), output }))[0];
    expect(maxAbsDiff(mixed[0], other)).toBeGreaterThan(1e-3);
    for (const t of tasks) runner.unloadModule(t);
    await runner.unloadGraph(name);
    await runner.unloadGraph(`${name}:stacked`);
  });

  it('refuses a mixed batch naming a module that was unloaded, and forgets stacks that held it', async () => {
    const name = 'iaa-l-retriever';
    const g = fx.graphs[name];
    await runner.loadGraph('s', resolveGraph(`${fx.backbone}/${stackedFileOf(`${name}.onnx`)}`, backbone), defaultSessionOptions());
    runner.loadModule('a', lcgTensors(g.tensors, 1, fx.scale));
    runner.loadModule('b', lcgTensors(g.tensors, 2, fx.scale));
    const run = () => runner.run({ graph: 's', modules: ['a', 'b'], batch: fixtureBatch(fx.batches.retriever, [0, 1]), output: { kind: 'embedding', pooling: 'mean', normalize: true } });
    await expect(run()).resolves.toHaveLength(2);
    runner.unloadModule('b');
    await expect(run()).rejects.toThrow(/module 'b' is not loaded/);
    runner.unloadModule('a');
    await runner.unloadGraph('s');
  });
});
