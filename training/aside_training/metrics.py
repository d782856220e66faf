"""nDCG@k (linear gains, log2 discount, as pytrec_eval/BEIR), Recall@k and a paired randomisation test."""
from __future__ import annotations

import math


def ndcg_at(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], rel: dict[str, int], k: int = 100) -> float:
    pos = {d for d, g in rel.items() if g > 0}
    return len(pos & set(ranked[:k])) / len(pos) if pos else 0.0


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else 0.0


def paired_randomisation(a: list[float], b: list[float], trials: int = 10_000, seed: int = 42) -> float:
    """Two-sided p-value of mean(a - b) under random sign flips of the per-query differences (the
    test docs/search-results.md uses for the server's runs: 10,000 flips, fixed seed)."""
    import random

    d = [x - y for x, y in zip(a, b)]
    if not d:
        return 1.0
    observed = abs(sum(d))
    rng = random.Random(seed)
    hits = sum(1 for _ in range(trials) if abs(sum(x if rng.random() < 0.5 else -x for x in d)) >= observed - 1e-12)
    return (hits + 1) / (trials + 1)
