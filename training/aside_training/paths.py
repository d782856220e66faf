"""Where things live: repo root, ASIDE_HOME, catalog, backbone files, graphs."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TRAINING = REPO / "training"
CATALOG = REPO / "models" / "catalog.json"
TASKS = REPO / "models" / "tasks"
RUNS = TRAINING / "runs"
CACHE = TRAINING / ".cache"
RESULTS = TRAINING / "results" / "results.jsonl"
DATASETS = Path(os.environ.get("ASIDE_DATASETS", REPO.parent / "shared" / "datasets"))


def aside_home() -> Path:
    return Path(os.environ.get("ASIDE_HOME", REPO / ".aside"))


def catalog() -> dict:
    return json.loads(CATALOG.read_text())


def catalog_entry(backbone_id: str) -> dict:
    for m in catalog()["models"]:
        if m["id"] == backbone_id:
            return m
    raise KeyError(f"backbone {backbone_id!r} is not in {CATALOG}")


def backbone_dir(backbone_id: str) -> Path:
    d = aside_home() / "models" / backbone_id
    if not (d / "model.onnx").exists():
        raise FileNotFoundError(f"{d}/model.onnx missing: run `npm run models:fetch -- {backbone_id}`")
    return d


def graph_file_name(kind: str, role: str, stacked: bool = False) -> str:
    """`<kind>-<role>.onnx`, or `<kind>-<role>.stacked.onnx` for the mixed-task variant."""
    return f"{kind}-{role}.stacked.onnx" if stacked else f"{kind}-{role}.onnx"


def graph_path(backbone_id: str, kind: str, role: str) -> Path:
    return aside_home() / "graphs" / backbone_id / graph_file_name(kind, role)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
