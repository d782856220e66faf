import { AsideError } from '../errors';
import { Encoder } from '../inference/encoder';
import { GraphInfo } from '../inference/graphRunner';
import { LATE_INTERACTION } from './manifest';
/** A task's role (as in registry.ts, not imported from there: the registry imports this file). */
type Role = 'retriever' | 'reranker';

const invalid = (msg: string) => new AsideError('validation', msg);

/** A text of at least `tokens` word pieces ('a' is one piece in BERT vocabularies). */
const longText = (tokens: number): string => 'a '.repeat(tokens);

/**
 * A graph's outputs must be what its task reads: cross-encoder re-rankers a `scores` output, retrievers
 * and late-interaction re-rankers (token states of a retriever module) hidden states.
 */
export function checkGraphOutputs(role: Role, graphFile: string, info: GraphInfo, kind?: string): void {
  const scores = info.outputs.includes('scores');
  if (kind === LATE_INTERACTION) {
    if (!info.outputs.includes('last_hidden_state')) throw invalid(`graph '${graphFile}' has no 'last_hidden_state' output; late interaction scores token states, so it needs a retriever graph`);
    return;
  }
  if (role === 'reranker' && !scores) throw invalid(`graph '${graphFile}' has no 'scores' output (outputs: ${info.outputs.join(', ')}); a re-ranker needs one`);
  if (role === 'retriever' && scores && !info.outputs.includes('last_hidden_state'))
    throw invalid(`graph '${graphFile}' is a re-ranker graph (output 'scores'); a retriever needs 'last_hidden_state'`);
}

/**
 * Runs a new task version once before it goes live: a module whose sizes, lengths or graph do not fit
 * fails here with a 400, not on every request later. Lengths up to the backbone's own (what the bare
 * backbone serves at) are known to fit, so the probe is a short input then; a manifest asking for
 * more is probed at that length, where the backbone's position limit would fail.
 */
export async function probeEncoder(encoder: Encoder, role: Role, dims: number, backboneMaxLength: number, taskKind?: string): Promise<void> {
  const max = encoder.target.maxLength;
  const probeAt = (n: number) => longText(n > backboneMaxLength ? n : 8);
  const fail = (what: string, err: unknown) =>
    invalid(`probe ${what} failed: ${err instanceof Error ? err.message : String(err)} (check the manifest's maxLength against the backbone's and the tensor sizes)`);
  if (taskKind === LATE_INTERACTION) {
    // What late interaction runs: a document's token states, at its longest.
    const rows = encoder.tokenize([probeAt(max.document)], 'document');
    const [states] = await encoder.tokenStates(rows, 'document').catch((e) => Promise.reject(fail(`token states of a document at maxLength.document ${max.document}`, e)));
    if (!states?.length || states.length % dims !== 0 || !states.every(Number.isFinite)) throw invalid(`probe token states have ${states?.length} values, not finite rows of ${dims} dimensions`);
    return;
  }
  if (role === 'reranker') {
    const scores = await encoder.score(probeAt(max.pair), [probeAt(max.pair)]).catch((e) => Promise.reject(fail(`re-ranking at maxLength.pair ${max.pair}`, e)));
    if (scores.length !== 1 || !Number.isFinite(scores[0])) throw invalid(`probe re-ranking returned ${JSON.stringify(scores)}, not one finite score`);
    return;
  }
  // One forward pass, at the longer of the two lengths: that is the one the backbone may refuse.
  const kind = max.document >= max.query ? 'document' : 'query';
  const [v] = await encoder.embed([probeAt(max[kind])], kind).catch((e) => Promise.reject(fail(`embedding a ${kind} at maxLength.${kind} ${max[kind]}`, e)));
  if (v?.length !== dims || !v.every(Number.isFinite))
    throw invalid(`probe ${kind} embedding has ${v?.length} dimensions${v?.every(Number.isFinite) ? '' : ' and non-finite values'}; the backbone gives ${dims}`);
}
