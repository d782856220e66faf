"""Export one ONNX graph per (backbone, kind, role).

    training/.venv/bin/python -m aside_training.export_graph --backbone all-MiniLM-L6-v2 --kind iaa-l --role retriever

(run from `training/`, or from the repo root with `PYTHONPATH=training`). Writes
`$ASIDE_HOME/graphs/<backbone>/<kind>-<role>.onnx`. The frozen backbone weights are
initializers; every module tensor is a graph input (float32, budget-dependent dims dynamic).
With `--stacked` it writes `<kind>-<role>.stacked.onnx`, the mixed-task variant: every module input
has a leading `tasks` dim and an int64 `task_index` [batch] picks each row's task (aside_training.stacked).
With `template=True` the frozen weights become references into the backbone's model.onnx
(aside_training.template); `python -m aside_training.templates` writes the committed ones.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path

import onnx
import torch

from .backbone import Backbone, load_backbone
from .encoder import encode, rerank_scores
from .kinds import KINDS, PRESETS, ROLES, TensorSpec, tensor_specs
from .paths import backbone_dir, graph_file_name, graph_path, sha256_file
from .stacked import STACKABLE_KINDS, stacked_forward
from .template import EXTERNAL_LOCATION, tensor_locations, to_template

IR_VERSION = 10  # onnxruntime-node 1.30 refuses onnx 1.23's default IR 14
OPSET = 17
TEXT_INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
TASK_INDEX = "task_index"  # stacked graphs: int64 [batch], row -> task along the module inputs' leading dim
EXAMPLE_TASKS = 3  # stacked trace: tasks in the example stack (not the example batch size, so no dim is confused)


def signature_of(inputs: list[tuple[str, str, int]]) -> str:
    """sha256 hex of the sorted module inputs, one `name:dtype:rank` line each, joined by '\\n'.

    `inputs` are (name, dtype, rank) of the graph inputs whose name starts with `m.`;
    dtype is the ONNX/numpy name, e.g. "float32". See docs/module-format.md."""
    lines = sorted(f"{n}:{d}:{r}" for n, d, r in inputs if n.startswith("m."))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def signature_of_specs(specs: dict[str, TensorSpec]) -> str:
    return signature_of([(n, "float32", len(sp.shape)) for n, sp in specs.items()])


_ONNX_DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


def signature_of_graph(model: onnx.ModelProto) -> str:
    ins = []
    for i in model.graph.input:
        t = i.type.tensor_type
        ins.append((i.name, _ONNX_DTYPES.get(t.elem_type, str(t.elem_type)), len(t.shape.dim)))
    return signature_of(ins)


class _Wrapper(torch.nn.Module):
    def __init__(self, bb: Backbone, role: str, names: list[str]):
        super().__init__()
        self.bb, self.role, self.names = bb, role, names

    def forward(self, input_ids, attention_mask, token_type_ids, *tensors):
        m = dict(zip(self.names, tensors))
        if self.role == "retriever":
            return encode(self.bb, m, input_ids, attention_mask, token_type_ids)
        return rerank_scores(self.bb, m, input_ids, attention_mask, token_type_ids)


class _StackedWrapper(_Wrapper):
    def forward(self, input_ids, attention_mask, token_type_ids, task_index, *tensors):
        return stacked_forward(self.bb, self.role, dict(zip(self.names, tensors)), task_index,
                               input_ids, attention_mask, token_type_ids)


def export(backbone_id: str, kind: str, role: str, out: Path | None = None, template: bool = False,
           stacked: bool = False) -> Path:
    """Traces the graph of (backbone, kind, role) and writes it to `out`: a full graph, or with
    `template` a weight-free template that references the backbone's model.onnx; with `stacked` the
    mixed-task variant (module inputs [tasks, ...] and a task_index input)."""
    if stacked and kind not in STACKABLE_KINDS:
        raise ValueError(f"kind {kind!r} has no stacked graph; stackable: {STACKABLE_KINDS}")
    bb = load_backbone(backbone_id)
    hp = PRESETS["smoke"][kind]  # example sizes only; dims are dynamic
    specs = tensor_specs(kind, role, bb.cfg, hp)
    names = sorted(specs)
    g = torch.Generator().manual_seed(0)
    lead = (EXAMPLE_TASKS,) if stacked else ()
    example = [torch.randn(lead + specs[n].shape, generator=g) * 0.01 for n in names]
    ids = torch.tensor([[101, 2023, 2003, 102, 2178, 102], [101, 2460, 102, 0, 0, 0]])
    am = (ids != 0).long()
    tt = torch.zeros_like(ids)
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
           "token_type_ids": {0: "batch", 1: "sequence"}}
    for n in names:
        if stacked:
            dyn[n] = {0: "tasks", **{ax + 1: sym for ax, sym in specs[n].dims.items()}}
        elif specs[n].dims:
            dyn[n] = dict(specs[n].dims)
    out_name = "last_hidden_state" if role == "retriever" else "scores"
    dyn[out_name] = {0: "batch", 1: "sequence"} if role == "retriever" else {0: "batch"}
    text, text_names = [ids, am, tt], list(TEXT_INPUTS)
    if stacked:
        text.append(torch.tensor([2, 0]))
        text_names.append(TASK_INDEX)
        dyn[TASK_INDEX] = {0: "batch"}
    out = out or graph_path(backbone_id, kind, role).with_name(graph_file_name(kind, role, stacked))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td) / "g.onnx"
        torch.onnx.export(
            (_StackedWrapper if stacked else _Wrapper)(bb, role, names), (*text, *example), str(tmp),
            input_names=text_names + names, output_names=[out_name], dynamic_axes=dyn,
            opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )
        model = onnx.load(str(tmp))
    # Module tensors must be pure inputs: onnxruntime silently ignores values fed for initializers.
    inits = {i.name for i in model.graph.initializer}
    graph_inputs = [i.name for i in model.graph.input]
    missing = [n for n in names if n not in graph_inputs]
    clash = [n for n in names if n in inits]
    if missing or clash:
        raise RuntimeError(f"module tensors not pure graph inputs: missing={missing} initializers={clash}")
    model.ir_version = IR_VERSION
    sig = signature_of_specs(specs)  # a stacked graph carries its tasks' (unstacked) signature
    ranks = [(n, "float32", len(sp.shape) + (1 if stacked else 0)) for n, sp in specs.items()]
    assert signature_of(ranks) == signature_of_graph(model)
    meta = {"aside.format": "aside-graph/1", "aside.backbone": backbone_id, "aside.kind": kind,
            "aside.role": role, "aside.signature": sig}
    if stacked:
        meta["aside.stacked"] = "1"
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    if template:
        backbone_file = backbone_dir(backbone_id) / "model.onnx"
        to_template(model, _locations(backbone_file))
        for k, v in {"aside.backbone_sha256": sha256_file(backbone_file), "aside.external_data": EXTERNAL_LOCATION}.items():
            p = model.metadata_props.add()
            p.key, p.value = k, v
    tmp_out = out.with_suffix(".onnx.tmp")
    tmp_out.write_bytes(model.SerializeToString())  # not onnx.save: it would resolve external data
    os.replace(tmp_out, out)
    return out


_LOCATIONS: dict[Path, dict] = {}


def _locations(backbone_file: Path) -> dict:
    if backbone_file not in _LOCATIONS:
        _LOCATIONS[backbone_file] = tensor_locations(backbone_file)
    return _LOCATIONS[backbone_file]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", default="all-MiniLM-L6-v2")
    ap.add_argument("--kind", required=True, help="one of " + ", ".join(KINDS) + ", or 'all'")
    ap.add_argument("--role", default="retriever", help="retriever | reranker | all")
    ap.add_argument("--out", type=Path, help="output file (single kind/role only)")
    ap.add_argument("--stacked", action="store_true", help="the mixed-task variant (<kind>-<role>.stacked.onnx)")
    a = ap.parse_args(argv)
    kinds = KINDS if a.kind == "all" else [a.kind]
    roles = ROLES if a.role == "all" else [a.role]
    for k in kinds:
        for r in roles:
            p = export(a.backbone, k, r, a.out, stacked=a.stacked)
            print(f"wrote {p}")


if __name__ == "__main__":
    main()
