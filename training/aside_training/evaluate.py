"""PyTorch-side evaluation: dense retrieval over a corpus, BM25 top-k re-ranking by a cross-encoder or by late interaction."""
from __future__ import annotations

from typing import Callable

import torch

from .backbone import Backbone
from .data import Collection
from .encoder import encode, pool, rerank_scores
from .late import maxsim, pad_states, token_states
from .metrics import mean, ndcg_at, paired_randomisation, recall_at
from .paths import catalog_entry
from .text import contract_for, encode_pairs, encode_texts


@torch.no_grad()
def embed(bb: Backbone, module: dict, texts: list[str], max_length: int, batch: int = 64, kind: str = "document") -> torch.Tensor:
    """Embeds texts as the server does: the backbone's prefix for `kind`, its pooling and normalisation."""
    c = contract_for(catalog_entry(bb.backbone_id))
    texts = c.prefixed(kind, texts)
    out = []
    # sort by length to cut padding work, then restore order
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for s in range(0, len(order), batch):
        idx = order[s: s + batch]
        b = encode_texts(bb.backbone_id, [texts[i] for i in idx], max_length)
        out.append((idx, pool(encode(bb, module, **b), b["attention_mask"], c.pooling, c.normalize)))
    res = torch.empty(len(texts), bb.cfg.hidden)
    for idx, e in out:
        res[idx] = e
    return res


@torch.no_grad()
def retrieval(bb, module, col: Collection, split: str, doc_ids: list[str], qlen: int, dlen: int,
              query_ids: list[str] | None = None, k: int = 100) -> dict:
    qrels = col.qrels[split]
    qids = query_ids or sorted(qrels)
    D = embed(bb, module, [col.corpus[d] for d in doc_ids], dlen)
    Q = embed(bb, module, [col.queries[q] for q in qids], qlen, kind="query")
    S = Q @ D.T
    top = torch.topk(S, min(k, len(doc_ids)), dim=1).indices
    nd, rc = [], []
    for j, q in enumerate(qids):
        ranked = [doc_ids[i] for i in top[j].tolist()]
        nd.append(ndcg_at(ranked, qrels[q], 10))
        rc.append(recall_at(ranked, qrels[q], 100))
    return {"ndcg@10": mean(nd), "recall@100": mean(rc), "queries": len(qids), "docs": len(doc_ids)}


def _judge_reranking(col: Collection, split: str, cands: dict[str, list[str]], depth: int, qids: list[str],
                     scores_of: Callable[[int, str, list[str]], list[float]]) -> dict:
    """Orders each query's top `depth` candidates by `scores_of(row, query id, docs)` (the rest keep their
    order) and judges it against the candidates themselves: nDCG@10 of both, the paired randomisation
    test, and per-query scores for paired tests between runs."""
    qrels = col.qrels[split]
    nd, base = [], []
    for j, q in enumerate(qids):
        docs = cands[q][:depth]
        sc = scores_of(j, q, docs)
        ranked = [d for _, d in sorted(zip(sc, docs), key=lambda x: -x[0])] + cands[q][depth:]
        nd.append(ndcg_at(ranked, qrels[q], 10))
        base.append(ndcg_at(cands[q], qrels[q], 10))
    return {"ndcg@10": mean(nd), "bm25_ndcg@10": mean(base), "queries": len(qids), "depth": depth,
            "p_vs_candidates": paired_randomisation(nd, base), "per_query": dict(zip(qids, nd))}


@torch.no_grad()
def rerank(bb, module, col: Collection, split: str, cands: dict[str, list[str]], plen: int, depth: int,
           query_ids: list[str] | None = None, batch: int = 32) -> dict:
    """Cross-encoder re-ranking: every (query, candidate) pair through the module's scoring head."""
    def scores_of(_: int, q: str, docs: list[str]) -> list[float]:
        scores = []
        for s in range(0, len(docs), batch):
            b = encode_pairs(bb.backbone_id, [(col.queries[q], col.corpus[d]) for d in docs[s: s + batch]], plen)
            scores.append(rerank_scores(bb, module, **b))
        return torch.cat(scores).tolist()

    return _judge_reranking(col, split, cands, depth, query_ids or sorted(col.qrels[split]), scores_of)


@torch.no_grad()
def late_rerank(bb, module, col: Collection, split: str, cands: dict[str, list[str]], qlen: int, dlen: int, depth: int,
                query_ids: list[str] | None = None, label: str = "") -> dict:
    """Late-interaction re-ranking: MaxSim over the module's token states (the server's scoring); each
    distinct document is encoded once."""
    qids = query_ids or sorted(col.qrels[split])
    doc_ids = sorted({d for q in qids for d in cands[q][:depth]})
    d_states, _ = token_states(bb, module, [col.corpus[d] for d in doc_ids], dlen, label=label)
    q_states, _ = token_states(bb, module, [col.queries[q] for q in qids], qlen, kind="query")
    row = {d: i for i, d in enumerate(doc_ids)}

    def scores_of(j: int, _: str, docs: list[str]) -> list[float]:
        states, mask = pad_states([d_states[row[d]] for d in docs])
        return maxsim(q_states[j].float(), states, mask).tolist()

    return _judge_reranking(col, split, cands, depth, qids, scores_of)
