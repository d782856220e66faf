"""Any retriever task's module as a late-interaction re-ranker, judged as the maxsim profile judges its
runs: MaxSim re-ranking of BM25's top 100 on all test queries, paired against a run's per-query scores.

    python -m aside_training.late_eval --task ../models/tasks/scifact-iaa-l-retriever --collection scifact \\
        --against runs/scifact-retriever-zero-shot-b0.5-s1-maxsim/result.json

Prints one JSON line (per-query scores left out).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from .backbone import load_backbone
from .data import bm25_candidates, load_collection
from .evaluate import late_rerank
from .metrics import paired_randomisation
from .task import load_task
from .train import PROFILES


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", type=Path, required=True, help="a retriever task directory with a module")
    ap.add_argument("--collection", default="scifact")
    ap.add_argument("--against", type=Path, help="a run's result.json with test_per_query: paired test against it")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("ASIDE_THREADS", "2")))
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    task = load_task(a.task)
    if task.manifest["role"] != "retriever":
        ap.error(f"{a.task} is a {task.manifest['role']} task: late interaction runs through a retriever's module")
    p = PROFILES["maxsim"]
    col = load_collection(a.collection)
    bb = load_backbone(task.manifest["backbone"]["id"])
    r = late_rerank(bb, dict(task.tensors), col, "test", bm25_candidates(col, 100), p["late_qlen"], p["late_dlen"],
                    p["rr_depth"], label="test candidates")
    per_query = r.pop("per_query")
    out = {"task": f"{task.manifest['id']}@{task.manifest['version']}", "collection": a.collection, **r}
    if a.against:
        other = json.loads(a.against.read_text())["test_per_query"]
        q = sorted(per_query)
        out["against"] = str(a.against)
        out["against_ndcg@10"] = sum(other[k] for k in q) / len(q)
        out["p_vs_against"] = paired_randomisation([per_query[k] for k in q], [other[k] for k in q])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
