"""BEIR collections (read-only, from ../shared/datasets), dev splits, cached BM25 candidates."""
from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import CACHE, DATASETS
from .text import doc_text

_STOP = set("a an and are as at be by for from has have in is it its of on or that the this to was were which with not no".split())


def bm25_tokens(s: str) -> list[str]:
    return [w for w in re.findall(r"\w+", s.lower()) if w not in _STOP]


@dataclass
class Collection:
    name: str
    corpus: dict[str, str]           # id -> "title. text"
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]  # split -> qid -> docid -> grade
    split_note: str


def _read_qrels(p: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with open(p) as f:
        r = csv.reader(f, delimiter="\t")
        next(r)
        for q, d, s in r:
            out.setdefault(q, {})[d] = int(s)
    return out


def load_collection(name: str, dev_fraction: float = 0.15, seed: int = 13) -> Collection:
    root = DATASETS / name
    corpus = {}
    with open(root / "corpus.jsonl") as f:
        for line in f:
            d = json.loads(line)
            corpus[d["_id"]] = doc_text(d)
    queries = {}
    with open(root / "queries.jsonl") as f:
        for line in f:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    qrels = {p.stem: _read_qrels(p) for p in (root / "qrels").glob("*.tsv")}
    note = "official splits"
    if "dev" not in qrels and "train" in qrels:
        # hold out part of train as dev (fixed seed); test stays untouched
        ids = sorted(qrels["train"])
        random.Random(seed).shuffle(ids)
        k = int(round(len(ids) * dev_fraction))
        dev = set(ids[:k])
        qrels["dev"] = {q: qrels["train"][q] for q in ids[:k]}
        qrels["train"] = {q: v for q, v in qrels["train"].items() if q not in dev}
        note = f"dev = {k} train queries held out (seed {seed}); test = official test"
    for split in qrels:
        qrels[split] = {q: {d: g for d, g in v.items() if d in corpus and g > 0} for q, v in qrels[split].items() if q in queries}
        qrels[split] = {q: v for q, v in qrels[split].items() if v}
    return Collection(name, corpus, queries, qrels, note)


def bm25_candidates(col: Collection, k: int = 100) -> dict[str, list[str]]:
    """BM25 (rank_bm25 Okapi, k1=1.5 b=0.75) top-k doc ids for every query with qrels; cached."""
    cache = CACHE / col.name / f"bm25_top{k}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    from rank_bm25 import BM25Okapi

    ids = list(col.corpus)
    bm = BM25Okapi([bm25_tokens(col.corpus[i]) for i in ids])
    wanted = sorted({q for split in col.qrels.values() for q in split})
    out = {}
    for q in wanted:
        s = bm.get_scores(bm25_tokens(col.queries[q]))
        top = np.argsort(-s)[:k]
        out[q] = [ids[j] for j in top]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


def rrf(rankings: list[list], rrf_k: int = 60) -> list:
    """Reciprocal rank fusion, as the server's hybrid stage: each item scores sum 1 / (rrf_k + rank), best first."""
    score: dict = {}
    for ranked in rankings:
        for r, d in enumerate(ranked):
            score[d] = score.get(d, 0.0) + 1.0 / (rrf_k + r + 1)
    return [d for d, _ in sorted(score.items(), key=lambda x: -x[1])]


def hybrid_candidates(col: Collection, bb, bm25: dict[str, list[str]], k: int = 100, rrf_k: int = 60) -> dict[str, list[str]]:
    """The server's hybrid first stage, in PyTorch: the bare backbone's dense top-k fused with BM25's by
    reciprocal rank (k=60), for every query with qrels; cached. Hard negatives for re-rankers come from
    here so that training sees the candidates the re-ranker will be asked to order."""
    cache = CACHE / col.name / f"hybrid_top{k}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    import torch

    from .evaluate import embed

    ids = list(col.corpus)
    wanted = sorted({q for split in col.qrels.values() for q in split})
    D = embed(bb, {}, [col.corpus[d] for d in ids], 128)
    Q = embed(bb, {}, [col.queries[q] for q in wanted], 64, kind="query")
    top = torch.topk(Q @ D.T, min(k, len(ids)), dim=1).indices
    out = {q: rrf([[ids[i] for i in top[j].tolist()], bm25[q][:k]], rrf_k)[:k] for j, q in enumerate(wanted)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out
