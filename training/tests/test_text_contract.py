"""The text contract: training's answers equal the committed fixture the server is tested against,
and every shipped manifest carries training's contract for its backbone."""
import json

import pytest

from aside_training.contract_fixture import OUT, build
from aside_training.paths import TASKS, catalog_entry
from aside_training.text import contract_for


def test_fixture_matches_training():
    assert json.loads(OUT.read_text()) == json.loads(json.dumps(build())), "regenerate: python -m aside_training.contract_fixture"


SHIPPED = sorted(p.parent for p in TASKS.glob("*/manifest.json")) if TASKS.exists() else []


@pytest.mark.parametrize("task_dir", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_manifest_carries_training_contract(task_dir):
    m = json.loads((task_dir / "manifest.json").read_text())
    entry = catalog_entry(m["backbone"]["id"])
    want = contract_for(entry).manifest_fields(m["role"])
    if "graph" not in m:  # no module, never trained: documents are read as the backbone reads them (BEIR)
        want["text"] = {"titleSeparator": entry.get("titleSeparator", " ")}
    assert {k: m.get(k) for k in want} == want
