import fs from 'node:fs';
import path from 'node:path';
import { asideHome } from '../../src/paths';

/**
 * Lays a catalog model out the way transformers.js expects a local model
 * (`<dir>/<name>/onnx/model.onnx`, tokenizer.json, config.json), with links to the very same files
 * Aside serves, so both peers run the identical ONNX graph.
 */
export function hfLayout(modelDir: string, name: string): string {
  const root = path.join(asideHome(), 'bench', 'hf');
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const link = (src: string, dst: string) => {
    fs.rmSync(dst, { force: true });
    fs.symlinkSync(path.resolve(src), dst);
  };
  link(path.join(modelDir, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
  link(path.join(modelDir, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const config = {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: 384,
    num_attention_heads: 12,
    num_hidden_layers: 6,
    intermediate_size: 1536,
    max_position_embeddings: 512,
    vocab_size: 30522,
    type_vocab_size: 2,
    pad_token_id: 0,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const tokCfg = { tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 256, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' };
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokCfg, null, 2));
  return root;
}
