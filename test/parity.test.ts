import { resolveModel } from '../src/models/catalog';
import { openBaseEncoder, Encoder } from '../src/inference/encoder';
import { float32FromBase64, maxAbsDiff, readFixture } from './helpers/fixtures';

/**
 * The bare backbone through Aside's tokenizer, batching and pooling vs onnxruntime-python + the
 * `tokenizers` package on 50 sentences tokenizers get wrong (accents, CJK, emoji, truncation). The
 * reference is a committed fixture (training's node_fixtures writes and CI re-checks it).
 */
const fx = readFixture<{ backbone: string; backboneSha256: string; tolerance: number; texts: string[]; embeddings: string[] }>('base-embeddings.json');

describe('embedding parity with Python onnxruntime + tokenizers', () => {
  let encoder: Encoder;
  const spec = resolveModel(fx.backbone);
  beforeAll(async () => {
    encoder = await openBaseEncoder(spec);
  });

  it('has 50 sentences, made with the backbone served here', () => {
    expect(fx.texts).toHaveLength(50);
    expect(fx.backboneSha256).toBe(spec.modelSha256);
  });

  it('matches within 1e-4 on every sentence', async () => {
    const node = await encoder.embed(fx.texts, 'document');
    const worst = Math.max(...node.map((v, i) => maxAbsDiff(v, float32FromBase64(fx.embeddings[i]))));
    expect(worst).toBeLessThanOrEqual(fx.tolerance);
  });
});
