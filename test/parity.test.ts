import path from 'node:path';
import { resolveModel } from '../src/models/catalog';
import { openBaseEncoder, Encoder } from '../src/inference/encoder';
import { runPythonJson } from './helpers/python';

// 50 sentences with the cases tokenizers get wrong: accents, CJK, punctuation, casing, long text.
const SENTENCES = [
  'Hello world!',
  'Vitamin D deficiency is associated with an increased risk of cancer.',
  'Café naïve résumé — Ünïcode façade.',
  '東京は日本の首都です。',
  'The quick brown fox jumps over the lazy dog.',
  'ALL CAPS SENTENCE WITH NUMBERS 12345 AND SYMBOLS #$%.',
  'e-mail: someone@example.com, url: https://example.org/path?q=1',
  'Tab\tseparated\tvalues and\nnewlines.',
  "Don't stop believin'; it's the users' choice.",
  'p53 mutations occur in ~50% of human cancers (Hollstein et al., 1991).',
  'Ḿöŕé ďíáćŕíťíćś ẁíťh ćőḿƀíńíńǵ ḿáŕḱś.',
  'Emoji are words too 😀🚀.',
  'A' + ' very'.repeat(400) + ' long sentence that must be truncated.',
  ...Array.from({ length: 37 }, (_, i) => `Sentence number ${i} about protein ${String.fromCharCode(65 + (i % 26))}${i} binding to receptor ${i * 7} in cell line HeLa-${i}.`),
];

describe('embedding parity with Python onnxruntime + tokenizers', () => {
  let encoder: Encoder;
  const spec = resolveModel();
  beforeAll(async () => {
    encoder = await openBaseEncoder(spec);
  });

  it('has 50 sentences', () => expect(SENTENCES).toHaveLength(50));

  it('matches within 1e-4 on every sentence', async () => {
    const node = await encoder.embed(SENTENCES, 'document');
    const ref = runPythonJson<{ embeddings: number[][] }>(path.join(__dirname, 'python', 'reference_embeddings.py'), {
      model: spec.modelPath,
      tokenizer: spec.tokenizerPath,
      pooling: spec.pooling,
      max_length: spec.maxLength,
      texts: SENTENCES,
    });
    let worst = 0;
    node.forEach((v, i) => v.forEach((x, d) => (worst = Math.max(worst, Math.abs(x - ref.embeddings[i][d])))));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});
