import { mrrAt, ndcgAt, recallAt, score } from '../src/eval/metrics';

describe('IR metrics (trec_eval semantics)', () => {
  const judged = new Map([
    ['a', 2],
    ['b', 1],
    ['c', 0],
  ]);

  it('computes graded nDCG@10 against the ideal ranking from qrels', () => {
    // ranking: x, b, a → DCG = 1/log2(3) + 2/log2(4); IDCG = 2/log2(2) + 1/log2(3)
    const dcg = 1 / Math.log2(3) + 2 / Math.log2(4);
    const idcg = 2 + 1 / Math.log2(3);
    expect(ndcgAt(['x', 'b', 'a'], judged, 10)).toBeCloseTo(dcg / idcg, 10);
    expect(ndcgAt(['a', 'b'], judged, 10)).toBeCloseTo(1, 10);
    expect(ndcgAt(['c', 'x'], judged, 10)).toBe(0);
  });

  it('counts only rel > 0 for recall and MRR, and respects the cutoff', () => {
    expect(recallAt(['c', 'a'], judged, 100)).toBe(0.5);
    expect(recallAt(['x', 'a', 'b'], judged, 2)).toBe(0.5);
    expect(mrrAt(['c', 'x', 'b'], judged, 10)).toBeCloseTo(1 / 3, 10);
    expect(mrrAt(['x', 'x2', 'b'], judged, 2)).toBe(0);
  });

  it('averages over queries with a relevant judgement only', () => {
    const qrels = new Map([
      ['q1', new Map([['d1', 1]])],
      ['q2', new Map([['d9', 0]])],
    ]);
    const s = score(new Map([['q1', ['d1']]]), qrels);
    expect(s.queries).toBe(1);
    expect(s['ndcg@10']).toBe(1);
  });
});
