import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalogEntry, loadCatalog, resolveModel } from '../src/models/catalog';
import { fetchEntry } from '../src/models/fetch';

describe('model catalog and fetch', () => {
  it('lists the six backbones with pooling and prefixes', () => {
    const ids = loadCatalog().models.map((m) => m.id);
    expect(ids).toEqual(['all-MiniLM-L6-v2', 'all-MiniLM-L6-v2-q', 'bge-small-en-v1.5', 'bge-small-en-v1.5-q', 'e5-small-v2', 'e5-small-v2-q']);
    expect(catalogEntry('bge-small-en-v1.5').pooling).toBe('cls');
    expect(catalogEntry('e5-small-v2').prefixes).toEqual({ query: 'query: ', document: 'passage: ' });
  });

  it('resolves the fetched default model', () => {
    const spec = resolveModel();
    expect(fs.existsSync(spec.modelPath)).toBe(true);
    expect(spec.pooling).toBe('mean');
  });

  it('accepts a local Hugging Face model directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-hf-'));
    const spec = resolveModel();
    fs.symlinkSync(spec.modelPath, path.join(dir, 'model.onnx'));
    fs.copyFileSync(spec.tokenizerPath, path.join(dir, 'tokenizer.json'));
    fs.mkdirSync(path.join(dir, '1_Pooling'));
    fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true }));
    fs.writeFileSync(path.join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 128 }));
    const local = resolveModel(dir);
    expect(local).toMatchObject({ pooling: 'cls', maxLength: 128, modelPath: path.join(dir, 'model.onnx') });
  });

  it('refuses a checksum mismatch and leaves nothing half-written', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-models-'));
    const prev = process.env.ASIDE_MODELS_DIR;
    process.env.ASIDE_MODELS_DIR = tmp;
    try {
      const good = catalogEntry('all-MiniLM-L6-v2');
      const bad = { ...good, id: 'tampered', files: { ...good.files, tokenizer: { ...good.files.tokenizer, sha256: '0'.repeat(64) } } };
      await expect(fetchEntry(bad)).rejects.toThrow(/checksum mismatch/);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      process.env.ASIDE_MODELS_DIR = prev;
      if (prev === undefined) delete process.env.ASIDE_MODELS_DIR;
    }
  });
});
