import { GraphRunner } from '../src/inference/graphRunner';
import { TextTokenizer } from '../src/text/tokenizer';
import { defaultSessionOptions } from '../src/inference/session';
import { moduleInputs } from '../src/tasks/signature';
import { resolveGraph } from '../src/tasks/graphFiles';
import { resolveModel } from '../src/models/catalog';
import { openBaseEncoder } from '../src/inference/encoder';

/**
 * The export contract, checked from the Node side for every module kind: module tensors are real
 * graph inputs, and the zero module (zero-length prefixes, zero bottlenecks and deltas) reproduces the
 * bare backbone. Graphs are the committed templates, bound to the backbone's bytes.
 */
const KINDS = ['bitfit', 'adapter', 'lora', 'lora-all', 'prefix', 'mam', 'iaa-s', 'iaa-l', 'iaa-m'];
const TEXTS = ['hello world', 'Vitamin D deficiency is associated with an increased risk of cancer.'];

describe('identity modules reproduce the bare backbone through onnxruntime-node', () => {
  const runner = new GraphRunner();
  const spec = resolveModel();
  const tok = new TextTokenizer(spec.tokenizerPath);
  let base: Float32Array[];
  beforeAll(async () => {
    const enc = await openBaseEncoder(spec);
    base = await enc.embed(TEXTS, 'document');
  });
  afterAll(() => runner.close());

  it.each(KINDS)('%s', async (kind) => {
    const source = resolveGraph(`${spec.id}/${kind}-retriever.onnx`, { file: spec.modelPath, sha256: spec.modelSha256 });
    const info = await runner.loadGraph(kind, source, defaultSessionOptions());
    const inputs = moduleInputs(info.inputs);
    expect(inputs.length).toBeGreaterThan(0);
    const tensors: Record<string, { dims: number[]; data: Float32Array }> = {};
    for (const i of inputs) {
      // Symbolic dims: a prefix length of 0 and a bottleneck/rank of 1 (its zero weights add nothing).
      const dims = i.shape.map((d) => (typeof d === 'number' && d > 0 ? d : /prefix/i.test(String(d)) ? 0 : 1));
      tensors[i.name] = { dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) };
    }
    runner.loadModule(kind, tensors);
    const out = await runner.run({ graph: kind, module: kind, batch: TextTokenizer.batch(TEXTS.map((t) => tok.single(t, 256))), output: { kind: 'embedding', pooling: 'mean', normalize: true } });
    runner.unloadModule(kind);
    await runner.unloadGraph(kind);
    let worst = 0;
    out.forEach((v, r) => v.forEach((x, d) => (worst = Math.max(worst, Math.abs(x - base[r][d])))));
    expect(worst).toBeLessThan(1e-4);
  });
});
