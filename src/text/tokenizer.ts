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

/** Characters per word piece a first window allows (English averages ~4; 8 leaves room). */
const CHARS_PER_TOKEN = 8;
/** The most characters per wanted piece ever tokenized: bounds the work a long input can cause. */
const MAX_WINDOW_FACTOR = 64;

/** Index of the last whitespace character before `end` (-1 if none). */
function lastWhitespace(text: string, end: number): number {
  for (let i = end; i > 0; i--) if (/\s/.test(text[i])) return i;
  return -1;
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

  /**
   * The first `count` word pieces of `text`, tokenizing only as much of it as that needs: a window of
   * CHARS_PER_TOKEN × count characters, cut at whitespace so no word is split, widened while it yields
   * too few pieces, never past MAX_WINDOW_FACTOR × count characters. A 100,000-character input thus
   * costs what a few thousand do; the pieces equal those of the whole text (a word piece spans at
   * least one character) unless the text is mostly whitespace or control characters past the cap.
   */
  leadingPieces(text: string, count: number): number[] {
    let window = Math.max(64, count * CHARS_PER_TOKEN);
    const cap = Math.max(window, count * MAX_WINDOW_FACTOR);
    for (;;) {
      if (text.length <= window) return this.pieces(text).slice(0, count);
      const ws = lastWhitespace(text, window);
      const ids = this.pieces(text.slice(0, ws > window / 2 ? ws : window));
      if (ids.length >= count || window >= cap) return ids.slice(0, count);
      window = Math.min(cap, window * 4);
    }
  }

  single(text: string, maxLength: number): Encoded {
    const body = this.leadingPieces(text, Math.max(0, maxLength - 2));
    const ids = [this.cls, ...body, this.sep];
    return { ids, typeIds: new Array(ids.length).fill(0) };
  }

  /**
   * A (query, document) pair for a cross-encoder. Truncation is longest-first, as in Hugging Face:
   * drop one piece at a time from whichever side is longer, so a short query is never cut for a long
   * document, and a long query still leaves room for the document.
   */
  pair(a: string, b: string, maxLength: number): Encoded {
    const budget = Math.max(2, maxLength - 3);
    // Neither side can keep more than the whole budget, so neither needs more pieces than that.
    const pa = this.leadingPieces(a, budget);
    const pb = this.leadingPieces(b, budget);
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
