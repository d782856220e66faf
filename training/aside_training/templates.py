"""The committed graph templates: every fp32 catalog backbone x every kind x both roles.

    training/.venv/bin/python -m aside_training.templates            # (re)write models/graphs/
    training/.venv/bin/python -m aside_training.templates --check    # fresh export == committed (CI)

Each backbone directory holds `<kind>-<role>.onnx` templates (aside_training.template), their
mixed-task variants `<kind>-<role>.stacked.onnx` (aside_training.stacked) and `templates.json`: the
backbone sha256 they reference, and per template its sha256, size, graph signature, inputs and outputs
(so the server can validate a task without opening a session); a stacked entry adds `"stacked": true`
and `"stackedOf"`, the template it stacks (same signature). The server binds a template only to a backbone file with that sha256.
The backbones must be fetched first (`npm run models:fetch -- <id>`); int8 backbones get no
templates (their quantized weights are not what the fp32 trace references; docs/module-format.md).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import onnx
import torch

from .export_graph import _ONNX_DTYPES, IR_VERSION, export
from .kinds import KINDS, ROLES
from .paths import REPO, backbone_dir, catalog, graph_file_name, sha256_file
from .stacked import STACKABLE_KINDS
from .template import EXTERNAL_LOCATION

TEMPLATES = REPO / "models" / "graphs"
INDEX = "templates.json"


def fp32_backbones() -> list[str]:
    return [m["id"] for m in catalog()["models"] if "(int8)" not in m["huggingFace"]]


def _values(values) -> list[dict]:
    """Name, dtype and shape (symbolic dims by name) of graph inputs/outputs, as onnxruntime reports them."""
    out = []
    for i in values:
        t = i.type.tensor_type
        out.append({"name": i.name, "type": _ONNX_DTYPES.get(t.elem_type, str(t.elem_type)),
                    "shape": [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]})
    return out


def _meta(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def write_backbone(backbone_id: str, out_dir: Path, kinds: list[str], roles: list[str]) -> dict:
    backbone_file = backbone_dir(backbone_id) / "model.onnx"
    sha = sha256_file(backbone_file)
    pinned = next(m for m in catalog()["models"] if m["id"] == backbone_id)["files"]["model"]["sha256"]
    if sha != pinned:
        raise RuntimeError(f"{backbone_file} has sha256 {sha}, the catalog pins {pinned}")
    out_dir.mkdir(parents=True, exist_ok=True)
    graphs = {}
    variants = [(k, r, False) for k in kinds for r in roles] + [(k, r, True) for k in kinds if k in STACKABLE_KINDS for r in roles]
    for kind, role, stacked in variants:
        path = export(backbone_id, kind, role, out_dir / graph_file_name(kind, role, stacked), template=True, stacked=stacked)
        data = path.read_bytes()
        model = onnx.load_from_string(data)
        graphs[path.name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                             "signature": _meta(model)["aside.signature"],
                             "inputs": _values(model.graph.input), "outputs": [o.name for o in model.graph.output]}
        if stacked:
            graphs[path.name] |= {"stacked": True, "stackedOf": graph_file_name(kind, role)}
        print(f"wrote {path} ({len(data)} bytes)")
    index = {"format": "aside-templates/1", "backbone": backbone_id, "sha256": sha,
             "bytes": backbone_file.stat().st_size, "externalData": EXTERNAL_LOCATION, "irVersion": IR_VERSION,
             "madeWith": {"torch": torch.__version__, "onnx": onnx.__version__},
             "command": "training/.venv/bin/python -m aside_training.templates", "graphs": graphs}
    (out_dir / INDEX).write_text(json.dumps(index, indent=1) + "\n")
    return index


def check_backbone(backbone_id: str, kinds: list[str], roles: list[str]) -> list[str]:
    committed_dir = TEMPLATES / backbone_id
    committed = json.loads((committed_dir / INDEX).read_text())
    with tempfile.TemporaryDirectory() as td:
        fresh = write_backbone(backbone_id, Path(td), kinds, roles)
        fails = []
        if fresh["sha256"] != committed["sha256"]:
            fails.append(f"{backbone_id}: backbone sha256 {fresh['sha256']} != committed {committed['sha256']}")
        for name, g in fresh["graphs"].items():
            c = committed["graphs"].get(name)
            if c != g or not (committed_dir / name).exists() or (committed_dir / name).read_bytes() != (Path(td) / name).read_bytes():
                fails.append(f"{backbone_id}/{name}: a fresh export differs from the committed template")
        fails += [f"{backbone_id}/{name}: committed but no longer exported" for name in committed["graphs"] if name not in fresh["graphs"]]
        return fails


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", action="append", help="default: every fp32 catalog backbone")
    ap.add_argument("--check", action="store_true", help="export afresh and compare with models/graphs/")
    a = ap.parse_args(argv)
    fails = []
    for b in a.backbone or fp32_backbones():
        if a.check:
            fails += check_backbone(b, KINDS, ROLES)
        else:
            write_backbone(b, TEMPLATES / b, KINDS, ROLES)
    if fails:
        print("TEMPLATES STALE (regenerate with `python -m aside_training.templates`):\n  " + "\n  ".join(fails))
        sys.exit(1)
    if a.check:
        print("templates ok")


if __name__ == "__main__":
    main()
