"""Every shipped task in models/tasks loads, matches its kind/budget, and runs identically in
PyTorch and onnxruntime through its graph ($ASIDE_HOME/graphs, exported there if missing)."""

import json

import pytest

from aside_training.backbone import load_backbone
from aside_training.export_graph import signature_of_specs
from aside_training.kinds import count, tensor_specs
from aside_training.paths import TASKS, catalog_entry
from aside_training.task import load_task

ALL = sorted(p.parent for p in TASKS.glob("*/manifest.json")) if TASKS.exists() else []
# A late-interaction re-ranker on the bare backbone has no module (no graph, no weights): checked apart.
BARE = [p for p in ALL if "graph" not in json.loads((p / "manifest.json").read_text())]
SHIPPED = [p for p in ALL if p not in BARE]


@pytest.mark.parametrize("task_dir", BARE, ids=[p.name for p in BARE])
def test_bare_late_interaction_task(task_dir):
    m = json.loads((task_dir / "manifest.json").read_text())
    assert m["id"] == task_dir.name
    assert (m["kind"], m["role"]) == ("late-interaction", "reranker")
    assert m["backbone"]["sha256"] == catalog_entry(m["backbone"]["id"])["files"]["model"]["sha256"]
    assert not (task_dir / "module.safetensors").exists()


@pytest.mark.parametrize("task_dir", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_task(task_dir):
    from aside_training.parity import check_task

    t = load_task(task_dir)
    m = t.manifest
    assert m["id"] == task_dir.name
    bb = load_backbone(m["backbone"]["id"])
    assert m["backbone"]["sha256"] == catalog_entry(m["backbone"]["id"])["files"]["model"]["sha256"]
    hp = {k: v for k, v in m["budget"].items() if k not in ("trainable_params", "fraction_of_backbone")}
    specs = tensor_specs(m["kind"], m["role"], bb.cfg, hp)
    assert m["graph"]["signature"] == signature_of_specs(specs)
    assert m["budget"]["trainable_params"] == count(specs)
    assert (task_dir / "module.safetensors").stat().st_size < 8 * 1024 * 1024
    assert check_task(task_dir) == []
