import fs from 'node:fs';
import { resolveModel } from '../src/models/catalog';
import { TextTokenizer } from '../src/text/tokenizer';
import { demoCollectionDir } from '../src/paths';

/** Counts the characters handed to the underlying tokenizer. */
class CountingTokenizer extends TextTokenizer {
  longest = 0;
  pieces(text: string): number[] {
    this.longest = Math.max(this.longest, text.length);
    return super.pieces(text);
  }
}

describe('tokenizing long inputs is bounded by the max length, not the input length', () => {
  const tok = new CountingTokenizer(resolveModel().tokenizerPath);
  const corpus = fs.readFileSync(`${demoCollectionDir()}/corpus.jsonl`, 'utf8');
  const prose = corpus
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).text as string)
    .join(' ')
    .slice(0, 100_000);
  const full = (text: string) => new TextTokenizer(resolveModel().tokenizerPath).pieces(text);

  it('a 100,000-character text: same tokens as tokenizing all of it, from a bounded window', () => {
    expect(prose.length).toBe(100_000);
    tok.longest = 0;
    const one = tok.single(prose, 256);
    expect(tok.longest).toBeLessThanOrEqual(256 * 64);
    expect(tok.longest).toBeLessThan(10_000);
    expect(one.ids).toEqual([tok.cls, ...full(prose).slice(0, 254), tok.sep]);
  });

  it('pairs are cut the same way on both sides', () => {
    tok.longest = 0;
    const p = tok.pair(prose, prose.slice(50_000), 512);
    expect(tok.longest).toBeLessThanOrEqual(512 * 64);
    const a = full(prose);
    const b = full(prose.slice(50_000));
    expect(p.ids).toEqual([tok.cls, ...a.slice(0, 255), tok.sep, ...b.slice(0, 254), tok.sep]);
  });

  it('a text that is mostly whitespace before its words still yields its words', () => {
    const text = `${' '.repeat(5000)}${prose.slice(0, 3000)}`;
    expect(tok.single(text, 128).ids).toEqual([tok.cls, ...full(text).slice(0, 126), tok.sep]);
  });

  it('short texts are untouched', () => {
    expect(tok.single('hello world', 256).ids).toEqual([tok.cls, ...full('hello world'), tok.sep]);
  });
});
