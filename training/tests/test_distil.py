"""Distillation pieces: the teacher's MaxSim equals the committed numpy reference the server is tested
against, its fusion is the server's per-query min-max blend, and the KL loss is zero only at agreement."""
import json
import random

import pytest
import torch

from aside_training.distil import blend, kl_to_teacher, minmax, teacher_group
from aside_training.late import maxsim
from aside_training.maxsim_kernel import FIXTURE


def test_maxsim_matches_reference_fixture():
    fx = json.loads(FIXTURE.read_text())
    D = fx["dims"]
    q = torch.tensor(fx["query"], dtype=torch.float32).view(-1, D)
    q = q[torch.tensor(fx["query_mask"]) > 0]  # the teacher drops excluded query tokens up front
    L = max(d["tokens"] for d in fx["docs"])
    docs = torch.zeros(len(fx["docs"]), L, D)
    mask = torch.zeros(len(fx["docs"]), L, dtype=torch.bool)
    for i, d in enumerate(fx["docs"]):
        docs[i, : d["tokens"]] = torch.tensor(d["states"], dtype=torch.float32).view(-1, D)
        mask[i, : d["tokens"]] = torch.tensor(d["mask"]) > 0
    assert maxsim(q, docs, mask).tolist() == pytest.approx(fx["scores_float"], abs=1e-4)


def test_blend_is_weighted_minmax():
    parts = {"maxsim": torch.tensor([3.0, 1.0, 2.0]), "dense": torch.tensor([0.1, 0.3, 0.2]), "bm25": torch.tensor([5.0, 5.0, 5.0])}
    out = blend(parts, {"maxsim": 1.0, "dense": 2.0, "bm25": 0.5})
    assert out.tolist() == pytest.approx([1.0, 2.0, 1.5])  # a constant signal adds nothing
    assert minmax(torch.tensor([2.0, 4.0])).tolist() == [0.0, 1.0]


def test_kl_is_zero_only_when_student_matches_teacher():
    teacher = torch.tensor([[2.0, 1.0, 0.0, 0.5]])
    assert kl_to_teacher(teacher * 5.0, teacher, 5.0).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_to_teacher(teacher * 5.0 + torch.tensor([0.0, 3.0, 0.0, 0.0]), teacher, 5.0).item() > 0.1


def test_teacher_group_keeps_top_and_samples_rest():
    item = {"docs": [f"d{i}" for i in range(30)], "scores": [30.0 - i for i in range(30)]}
    docs, scores = teacher_group(item, 8, 4, random.Random(0))
    assert docs[:4] == ["d0", "d1", "d2", "d3"] and len(set(docs)) == 8
    assert all(int(d[1:]) >= 4 for d in docs[4:])
    assert scores.tolist() == [30.0 - int(d[1:]) for d in docs]
