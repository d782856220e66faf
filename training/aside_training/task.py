"""Task directories: `models/tasks/<id>/manifest.json` + `module.safetensors` (aside-task/1).

See docs/module-format.md for the field-by-field specification.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .backbone import load_backbone
from .export_graph import signature_of_specs
from .kinds import TensorSpec, count, tensor_specs
from .paths import catalog_entry, graph_path, sha256_file
from .text import contract_for

FORMAT = "aside-task/1"


@dataclass
class Task:
    manifest: dict
    tensors: dict[str, torch.Tensor]
    path: Path


def build_manifest(*, task_id: str, version: str, role: str, kind: str, hp: dict, backbone_id: str,
                   tensors: dict[str, torch.Tensor], max_length: dict, training: dict, metrics: dict,
                   backbone_params: int, description: str = "") -> dict:
    entry = catalog_entry(backbone_id)
    shapes = {n: tuple(t.shape) for n, t in tensors.items()}
    specs = {n: TensorSpec(s) for n, s in shapes.items()}
    expected = tensor_specs(kind, role, load_backbone(backbone_id).cfg, hp)
    if set(expected) != set(shapes) or any(tuple(expected[n].shape) != shapes[n] for n in expected):
        raise ValueError(f"tensors do not match kind {kind} / role {role} / budget {hp}")
    n = count(specs)
    gp = graph_path(backbone_id, kind, role)
    m = {
        "format": FORMAT,
        "id": task_id,
        "version": version,
        "description": description,
        "role": role,
        "kind": kind,
        "budget": {"trainable_params": n, "fraction_of_backbone": round(n / backbone_params, 6), **hp},
        "backbone": {"id": backbone_id, "sha256": entry["files"]["model"]["sha256"]},
        "graph": {"file": f"{backbone_id}/{kind}-{role}.onnx", "signature": signature_of_specs(specs),
                  "inputs": ["input_ids", "attention_mask", "token_type_ids"],
                  "output": "last_hidden_state" if role == "retriever" else "scores"},
        **contract_for(entry).manifest_fields(role),
        "maxLength": max_length,
        "truncation": "longest_first",
        "tensors": {k: {"shape": list(shapes[k]), "dtype": "float32"} for k in sorted(shapes)},
        "weights": "module.safetensors",
        "training": training,
        "metrics": metrics,
    }
    if gp.exists():
        m["graph"]["sha256AtExport"] = sha256_file(gp)
    return m


def save_task(out_dir: Path, manifest: dict, tensors: dict[str, torch.Tensor]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    ts = {k: v.detach().to(torch.float32).contiguous() for k, v in sorted(tensors.items())}
    save_file(ts, str(out_dir / "module.safetensors"), metadata={"format": FORMAT, "id": manifest["id"],
                                                                 "kind": manifest["kind"], "role": manifest["role"]})
    (out_dir / "module.safetensors").chmod(0o644)
    manifest = dict(manifest)
    manifest["weightsSha256"] = sha256_file(out_dir / "module.safetensors")
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out_dir


def load_task(task_dir: Path) -> Task:
    task_dir = Path(task_dir)
    m = json.loads((task_dir / "manifest.json").read_text())
    if m.get("format") != FORMAT:
        raise ValueError(f"{task_dir}: format {m.get('format')!r} != {FORMAT}")
    tensors = load_file(str(task_dir / m["weights"]))
    for name, spec in m["tensors"].items():
        if name not in tensors or list(tensors[name].shape) != spec["shape"]:
            raise ValueError(f"{task_dir}: tensor {name} missing or wrong shape")
    if set(tensors) != set(m["tensors"]):
        raise ValueError(f"{task_dir}: safetensors and manifest list different tensors")
    return Task(m, tensors, task_dir)
