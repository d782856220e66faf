import { GraphRunner } from '../src/inference/graphRunner';
import { defaultSessionOptions } from '../src/inference/session';
import { resolveModel } from '../src/models/catalog';
import { resolveGraph } from '../src/tasks/graphFiles';
import { AsideError } from '../src/errors';
import { lcgTensors } from './helpers/seededModule';
import { fixtureBatch, FixtureRows, maxAbsDiff, readFixture } from './helpers/fixtures';

/**
 * Every committed template of the default backbone, bound to the verified backbone bytes, gives the
 * outputs the full exported graph (backbone weights inside) gave in onnxruntime-python: the fixture
 * holds those outputs for seeded module tensors on fixed token ids.
 */
interface Fixture {
  backbone: string;
  backboneSha256: string;
  scale: number;
  tolerance: number;
  batches: Record<'retriever' | 'reranker', FixtureRows>;
  graphs: Record<string, { seed: number; tensors: { name: string; shape: number[] }[]; output: number[] | number[][] }>;
}

const fx = readFixture<Fixture>('graph-parity/all-MiniLM-L6-v2.json');
const spec = resolveModel(fx.backbone);

describe('weight-free graph templates bound to the backbone', () => {
  const runner = new GraphRunner();
  afterAll(() => runner.close());

  it('covers every kind and role', () => expect(Object.keys(fx.graphs)).toHaveLength(18));

  it.each(Object.keys(fx.graphs))('%s equals the full exported graph', async (name) => {
    const g = fx.graphs[name];
    const role = name.endsWith('-reranker') ? 'reranker' : 'retriever';
    const source = resolveGraph(`${fx.backbone}/${name}.onnx`, { file: spec.modelPath, sha256: spec.modelSha256 });
    expect(typeof source).toBe('object'); // a template, not a full graph from .aside/graphs
    await runner.loadGraph(name, source, defaultSessionOptions());
    runner.loadModule(name, lcgTensors(g.tensors, g.seed, fx.scale));
    const out = await runner.run({
      graph: name,
      module: name,
      batch: fixtureBatch(fx.batches[role]),
      output: role === 'retriever' ? { kind: 'embedding', pooling: 'mean', normalize: false } : { kind: 'scores' },
    });
    const got = role === 'retriever' ? out.flatMap((v) => Array.from(v)) : Array.from(out[0]);
    runner.unloadModule(name);
    await runner.unloadGraph(name);
    expect(maxAbsDiff(got, (g.output as number[] | number[][]).flat())).toBeLessThanOrEqual(fx.tolerance);
  });

  it('opens no session for a template until its first forward pass, and its index describes the graph as onnxruntime does', async () => {
    const source = resolveGraph(`${fx.backbone}/iaa-l-reranker.onnx`, { file: spec.modelPath, sha256: spec.modelSha256 });
    const lazy = new GraphRunner();
    const eager = new GraphRunner();
    const fromIndex = await lazy.loadGraph('g', source, defaultSessionOptions());
    expect(lazy.openSessions).toBe(0);
    const fromSession = await eager.loadGraph('g', source, { ...defaultSessionOptions(), memory: { lazySessions: false } });
    expect(eager.openSessions).toBe(1);
    expect(fromIndex).toEqual(fromSession);
    const g = fx.graphs['iaa-l-reranker'];
    lazy.loadModule('m', lcgTensors(g.tensors, g.seed, fx.scale));
    await lazy.run({ graph: 'g', module: 'm', batch: fixtureBatch(fx.batches.reranker), output: { kind: 'scores' } });
    expect(lazy.openSessions).toBe(1);
    await Promise.all([lazy.close(), eager.close()]);
  });

  it('refuses to bind a template to a backbone with another sha256', () => {
    expect(() => resolveGraph(`${fx.backbone}/iaa-l-retriever.onnx`, { file: spec.modelPath, sha256: '0'.repeat(64) })).toThrow(AsideError);
    expect(() => resolveGraph(`${fx.backbone}/iaa-l-retriever.onnx`, { file: spec.modelPath, sha256: '0'.repeat(64) })).toThrow(/references backbone sha256 759c3cd2b7fe/);
  });

  it('refuses graph paths outside the graph directories', () => {
    expect(() => resolveGraph('../../package.json.onnx', { file: spec.modelPath, sha256: spec.modelSha256 })).toThrow(/escapes/);
    expect(() => resolveGraph('all-MiniLM-L6-v2/nope-retriever.onnx', { file: spec.modelPath, sha256: spec.modelSha256 })).toThrow(/neither a committed template nor a built graph/);
  });

  it('refuses backbone bytes other than the ones the template was made against, naming the file', async () => {
    const source = resolveGraph(`${fx.backbone}/iaa-l-retriever.onnx`, { file: spec.modelPath, sha256: spec.modelSha256 });
    if (typeof source === 'string') throw new Error('expected a template');
    const wrong = { ...source, backboneFile: spec.tokenizerPath };
    const eager = new GraphRunner();
    await expect(eager.loadGraph('g', wrong, { ...defaultSessionOptions(), memory: { lazySessions: false } })).rejects.toThrow(/backbone .*tokenizer.json has sha256/);
    // A lazy graph binds at its first run: that run fails, and so does the next (nothing half-open is kept).
    const lazy = new GraphRunner();
    await lazy.loadGraph('g', wrong, defaultSessionOptions());
    const run = () => lazy.run({ graph: 'g', batch: fixtureBatch(fx.batches.retriever), output: { kind: 'embedding', pooling: 'mean', normalize: false } });
    await expect(run()).rejects.toThrow(/tokenizer.json has sha256/);
    await expect(run()).rejects.toThrow(/tokenizer.json has sha256/);
    expect(lazy.openSessions).toBe(0);
    await Promise.all([eager.close(), lazy.close()]);
  });
});
