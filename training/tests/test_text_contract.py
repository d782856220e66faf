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
    want = contract_for(catalog_entry(m["backbone"]["id"])).manifest_fields(m["role"])
    assert {k: m.get(k) for k in want} == want
