"""Distillation signal for re-rankers: document titles as pseudo-queries, scored by a zero-shot teacher.

A collection has ~800 training queries; its corpus has thousands of titles. Each title becomes a
pseudo-query whose candidates are the hybrid first stage's top `depth` over the corpus (BM25 + the bare
backbone's dense vectors, fused by RRF), minus the title's own document (it contains the title verbatim,
so it would teach string copying). The teacher is the zero-shot pipeline that won on SciFact: per-query
min-max normalised late interaction (MaxSim over unit token states, special tokens excluded) + dense
cosine + BM25, weighted as the server's default re-ranker blend on hybrid candidates (tuned on train/dev
queries, docs/search-results.md). Only the corpus is read: no judgements, no test queries.

The teacher is computed once per (collection, count, depth) and cached under training/.cache/.
"""
from __future__ import annotations

import json
import random

import torch
import torch.nn.functional as F

from .backbone import Backbone
from .data import Collection, bm25_tokens, rrf
from .late import maxsim, pad_states, token_states
from .paths import CACHE, DATASETS

# rerank 1 + dense 1.5 + bm25 0.5: the default late-interaction blend tuned for hybrid candidates
TEACHER_WEIGHTS = {"maxsim": 1.0, "dense": 1.5, "bm25": 0.5}
QUERY_LEN, DOC_LEN = 64, 256  # the shipped late-interaction task's max lengths
MIN_TITLE_WORDS = 4  # shorter titles ("Introduction.") say too little to rank by


def titles(col: Collection) -> dict[str, str]:
    out = {}
    with open(DATASETS / col.name / "corpus.jsonl") as f:
        for line in f:
            d = json.loads(line)
            t = (d.get("title") or "").strip()
            if d["_id"] in col.corpus and len(t.split()) >= MIN_TITLE_WORDS:
                out[d["_id"]] = t
    return out


def pseudo_queries(col: Collection, n: int, seed: int = 11) -> list[tuple[str, str]]:
    """n (source document id, title) pairs, a fixed sample of the corpus's titles."""
    t = sorted(titles(col).items())
    random.Random(seed).shuffle(t)
    return t[:n]


def minmax(x: torch.Tensor) -> torch.Tensor:
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)


def blend(parts: dict[str, torch.Tensor], weights: dict[str, float] = TEACHER_WEIGHTS) -> torch.Tensor:
    """The server's score fusion: each signal min-max normalised over the query's candidates, weighted, summed."""
    return sum(weights[k] * minmax(v) for k, v in parts.items())


def kl_to_teacher(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Listwise distillation: KL(softmax(teacher * temperature) || softmax(student)), rows = groups."""
    return F.kl_div(F.log_softmax(student, dim=-1), F.softmax(teacher * temperature, dim=-1), reduction="batchmean")


def build_teacher(col: Collection, bb: Backbone, n: int, depth: int = 30, rrf_k: int = 60) -> list[dict]:
    """[{source, query, docs, scores}] for n pseudo-queries; cached."""
    cache = CACHE / col.name / f"distil_teacher_{bb.backbone_id}_n{n}_d{depth}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    from rank_bm25 import BM25Okapi

    pq = pseudo_queries(col, n)
    ids = list(col.corpus)
    print(f"[teacher] {len(pq)} title pseudo-queries over {len(ids)} documents", flush=True)
    bm = BM25Okapi([bm25_tokens(col.corpus[i]) for i in ids])
    d_states, d_vecs = token_states(bb, {}, [col.corpus[i] for i in ids], DOC_LEN, label="corpus")
    q_states, q_vecs = token_states(bb, {}, [t for _, t in pq], QUERY_LEN, kind="query", label="titles")
    out = []
    for j, (src, title) in enumerate(pq):
        bm25 = torch.tensor(bm.get_scores(bm25_tokens(title)), dtype=torch.float32)
        dense = d_vecs @ q_vecs[j]
        fused = rrf([torch.topk(dense, depth + 1).indices.tolist(), torch.topk(bm25, depth + 1).indices.tolist()], rrf_k)
        cand = [i for i in fused if ids[i] != src][:depth]
        docs, mask = pad_states([d_states[i] for i in cand])
        idx = torch.tensor(cand)
        score = blend({"maxsim": maxsim(q_states[j].float(), docs, mask), "dense": dense[idx], "bm25": bm25[idx]})
        order = torch.argsort(score, descending=True).tolist()
        out.append({"source": src, "query": title, "docs": [ids[cand[r]] for r in order],
                    "scores": [round(float(score[r]), 5) for r in order]})
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(cache)
    return out


def teacher_group(item: dict, size: int, top: int, rng: random.Random) -> tuple[list[str], torch.Tensor]:
    """A training group from one pseudo-query: the teacher's `top` best (fine distinctions where the
    ranking matters) plus random others from the rest of its candidates; with the teacher's scores."""
    rest = rng.sample(range(top, len(item["docs"])), min(size - top, len(item["docs"]) - top))
    pick = list(range(min(top, len(item["docs"])))) + rest
    return [item["docs"][r] for r in pick], torch.tensor([item["scores"][r] for r in pick])
