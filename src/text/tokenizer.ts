import fs from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

/** Token ids ready for a BERT-style encoder: [CLS] a [SEP] (b [SEP]). */
export interface Encoded {
  ids: number[];
  typeIds: number[];
}

/** A padded batch, laid out row-major as the ONNX graph wants it. */
export interface TokenBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batch: number;
  seqLen: number;
  /** Real (unpadded) tokens in the batch: what the work actually costs. */
  tokens: number;
}

/**
 * Wraps the Hugging Face tokenizer loaded from a local tokenizer.json. The file's own truncation and
 * padding settings are ignored on purpose (all-MiniLM's pads everything to 128): Aside truncates to an
 * explicit max length and pads each batch only to its longest row.
 */
export class TextTokenizer {
  private readonly tok: Tokenizer;
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;

  constructor(tokenizerJsonPath: string) {
    const json = JSON.parse(fs.readFileSync(tokenizerJsonPath, 'utf8'));
    json.truncation = null;
    json.padding = null;
    this.tok = new Tokenizer(json, {});
    const id = (t: string) => {
      const v = this.tok.token_to_id(t);
      if (v === undefined) throw new Error(`tokenizer ${tokenizerJsonPath} has no ${t} token (Aside expects a BERT-style vocabulary)`);
      return v;
    };
    this.cls = id('[CLS]');
    this.sep = id('[SEP]');
    this.pad = id('[PAD]');
  }

  /** Word-piece ids without special tokens. */
  pieces(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  single(text: string, maxLength: number): Encoded {
    const body = this.pieces(text).slice(0, Math.max(0, maxLength - 2));
    const ids = [this.cls, ...body, this.sep];
    return { ids, typeIds: new Array(ids.length).fill(0) };
  }

  /**
   * A (query, document) pair for a cross-encoder. Truncation is longest-first, as in Hugging Face:
   * drop one piece at a time from whichever side is longer, so a short query is never cut for a long
   * document, and a long query still leaves room for the document.
   */
  pair(a: string, b: string, maxLength: number): Encoded {
    const pa = this.pieces(a);
    const pb = this.pieces(b);
    const budget = Math.max(2, maxLength - 3);
    let la = pa.length;
    let lb = pb.length;
    while (la + lb > budget) {
      if (la > lb) la--;
      else lb--;
    }
    const ids = [this.cls, ...pa.slice(0, la), this.sep, ...pb.slice(0, lb), this.sep];
    const typeIds = ids.map((_, i) => (i <= la + 1 ? 0 : 1));
    return { ids, typeIds };
  }

  /** Pads to the longest row of this batch only. */
  static batch(rows: Encoded[]): TokenBatch {
    const batch = rows.length;
    const seqLen = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
    const inputIds = new BigInt64Array(batch * seqLen);
    const attentionMask = new BigInt64Array(batch * seqLen);
    const tokenTypeIds = new BigInt64Array(batch * seqLen);
    let tokens = 0;
    rows.forEach((r, b) => {
      const off = b * seqLen;
      for (let i = 0; i < r.ids.length; i++) {
        inputIds[off + i] = BigInt(r.ids[i]);
        attentionMask[off + i] = 1n;
        tokenTypeIds[off + i] = BigInt(r.typeIds[i]);
      }
      tokens += r.ids.length;
    });
    return { inputIds, attentionMask, tokenTypeIds, batch, seqLen, tokens };
  }
}
