/**
 * The text contract between training and serving: how a document (title + body) becomes one encoder
 * input. Training writes it into each task manifest (`text.titleSeparator`, next to `prefixes`,
 * `pooling`, `normalize`); the bare backbone follows the BEIR/MTEB convention (a space).
 * test/fixtures/text-contract.json holds training's answers and test/textContract.test.ts holds us to them.
 */
export interface TextContract {
  titleSeparator: string;
}

/** BEIR and MTEB join title and text with a space: what a catalog backbone's published scores assume. */
export const BEIR_TEXT: TextContract = { titleSeparator: ' ' };

export interface TitledText {
  title?: string;
  text: string;
}

/** What the encoder reads for a query or a document: the contract's prefix, then the text. */
export function withPrefix(prefixes: { query: string; document: string }, kind: 'query' | 'document', text: string): string {
  return prefixes[kind] + text;
}

/** title + separator + text, both trimmed; the title is left out when empty (as training does). */
export function joinDocument(doc: TitledText, contract: TextContract): string {
  const title = (doc.title ?? '').trim();
  const text = doc.text.trim();
  return title ? `${title}${contract.titleSeparator}${text}` : text;
}
