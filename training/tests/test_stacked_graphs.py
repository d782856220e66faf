"""Mixed-task batches (issue 14 item 5): every row of a batch that mixes three tasks' modules, run in
one forward pass through the stacked computation, equals its task run alone, in PyTorch and through
the committed stacked templates bound to the backbone; a smaller budget of the same kind joins a stack
zero-padded."""
import json

import numpy as np
import onnx
import pytest
import torch

from aside_training.backbone import load_backbone
from aside_training.encoder import encode, rerank_scores
from aside_training.kinds import KINDS, PRESETS, ROLES, init_module
from aside_training.paths import backbone_dir
from aside_training.stacked import STACKABLE_KINDS, pad_budget, stack_modules, stacked_forward
from aside_training.template import bound_session
from aside_training.templates import INDEX, TEMPLATES
from aside_training.text import encode_pairs, encode_texts

B = "all-MiniLM-L6-v2"
TOL = 1e-5
# Five rows of different lengths (padded to the longest), three tasks, tasks 0 and 2 used twice.
TASK_INDEX = [2, 0, 1, 2, 0]
TEXTS = ["short", "a line scan diffusion-weighted magnetic resonance imaging sequence was applied",
         "1 in 5 million in UK have abnormal PrP positivity.", "cells", "0-dimensional biomaterials lack inductive properties."]
PAIRS = [("q", "doc one is a much longer document about cells and proteins"), ("short query", "d"),
         ("what lacks inductive properties?", "0-dimensional biomaterials"), ("x", "y"), ("prp", "1 in 5 million in UK")]


@pytest.fixture(scope="module")
def bb():
    return load_backbone(B)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Batches of five short rows: one thread is fast, and on a shared, loaded machine two spinning
    threads per op made these tests 50x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _modules(bb, kind: str, role: str) -> list[dict[str, torch.Tensor]]:
    """Three random modules of one shape (0.5% budget), perturbed so every tensor (up-projections,
    LoRA B, head) is non-zero and the tasks really differ."""
    out = []
    for seed in range(3):
        g = torch.Generator().manual_seed(100 + seed)
        base = init_module(kind, role, bb, PRESETS["0.5"][kind], seed)
        out.append({k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in base.items()})
    return out


def _batch(role: str) -> dict[str, torch.Tensor]:
    return encode_texts(B, TEXTS, 64) if role == "retriever" else encode_pairs(B, PAIRS, 64)


def _run(bb, role, module, batch) -> torch.Tensor:
    with torch.no_grad():
        return (encode if role == "retriever" else rerank_scores)(bb, module, **batch)


def test_all_exported_kinds_stack():
    assert STACKABLE_KINDS == KINDS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_each_row_equals_its_task_alone(bb, kind, role):
    mods = _modules(bb, kind, role)
    batch = _batch(role)
    with torch.no_grad():
        mixed = stacked_forward(bb, role, stack_modules(mods), torch.tensor(TASK_INDEX), **batch)
    lengths = batch["attention_mask"].sum(1).tolist()
    assert len(set(lengths)) > 1
    for i, t in enumerate(TASK_INDEX):
        n = lengths[i]
        row = {k: v[i : i + 1, :n] for k, v in batch.items()}  # the row alone, unpadded
        alone = _run(bb, role, mods[t], row)[0]
        got = mixed[i, :n] if role == "retriever" else mixed[i]
        assert (got - alone).abs().max().item() <= TOL, (kind, role, i)
        other = _run(bb, role, mods[(t + 1) % 3], row)[0]
        assert (got - other).abs().max().item() > 1e-3, "the tasks' modules should give different outputs"


def test_stack_refuses_tasks_of_different_shapes(bb):
    small = init_module("lora", "retriever", bb, PRESETS["smoke"]["lora"], 0)
    large = init_module("lora", "retriever", bb, PRESETS["0.5"]["lora"], 0)
    with pytest.raises(ValueError, match="shapes"):
        stack_modules([small, large])


@pytest.mark.parametrize("kind", ["lora", "lora-all", "iaa-l", "iaa-s", "iaa-m", "adapter", "mam"])
def test_a_smaller_budget_zero_padded_joins_the_stack(bb, kind):
    """Tasks of one kind but different ranks mix once the smaller ones are zero-padded (not prefixes)."""
    large = _modules(bb, kind, "retriever")
    hp = dict(PRESETS["smoke"][kind]) | ({"prefix": PRESETS["0.5"][kind]["prefix"]} if "prefix" in PRESETS["0.5"][kind] else {})
    small = init_module(kind, "retriever", bb, hp, 7)
    small = {k: v + 0.05 * torch.randn(v.shape, generator=torch.Generator().manual_seed(7)) for k, v in small.items()}
    padded = pad_budget(small, {k: v.shape for k, v in large[0].items()})
    batch = _batch("retriever")
    with torch.no_grad():
        mixed = stacked_forward(bb, "retriever", stack_modules([large[0], padded, large[2]]), torch.tensor(TASK_INDEX), **batch)
    alone = _run(bb, "retriever", small, batch)
    mask = batch["attention_mask"].bool()
    for i in (i for i, t in enumerate(TASK_INDEX) if t == 1):
        assert (mixed[i][mask[i]] - alone[i][mask[i]]).abs().max().item() <= TOL


def test_prefix_lengths_are_not_padded(bb):
    small = init_module("prefix", "retriever", bb, PRESETS["smoke"]["prefix"], 0)
    large = init_module("prefix", "retriever", bb, PRESETS["0.5"]["prefix"], 0)
    with pytest.raises(ValueError, match="prefix length"):
        pad_budget(small, {k: v.shape for k, v in large.items()})


def _feeds(batch, module) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in batch.items()} | {k: v.numpy().astype(np.float32) for k, v in module.items()}


@pytest.mark.parametrize("kind", STACKABLE_KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_committed_stacked_template_equals_unstacked_per_task(bb, kind, role):
    backbone_file = backbone_dir(B) / "model.onnx"
    stacked = bound_session((TEMPLATES / B / f"{kind}-{role}.stacked.onnx").read_bytes(), backbone_file, threads=1)
    single = bound_session((TEMPLATES / B / f"{kind}-{role}.onnx").read_bytes(), backbone_file, threads=1)
    out = "last_hidden_state" if role == "retriever" else "scores"
    mods = _modules(bb, kind, role)
    batch = _batch(role)
    feeds = _feeds(batch, stack_modules(mods)) | {"task_index": np.array(TASK_INDEX, dtype=np.int64)}
    mixed = stacked.run([out], feeds)[0]
    mask = batch["attention_mask"].numpy().astype(bool)
    for t in range(3):
        alone = single.run([out], _feeds(batch, mods[t]))[0]
        for i in (i for i, ti in enumerate(TASK_INDEX) if ti == t):
            diff = np.abs(mixed[i][mask[i]] - alone[i][mask[i]]) if role == "retriever" else abs(mixed[i] - alone[i])
            assert diff.max() <= TOL, (kind, role, i)


def test_index_lists_each_stacked_template_with_its_unstacked_signature():
    for index_file in TEMPLATES.glob(f"*/{INDEX}"):
        graphs = json.loads(index_file.read_text())["graphs"]
        for kind in STACKABLE_KINDS:
            for role in ROLES:
                plain, g = graphs[f"{kind}-{role}.onnx"], graphs[f"{kind}-{role}.stacked.onnx"]
                assert (g["stacked"], g["stackedOf"], g["signature"]) == (True, f"{kind}-{role}.onnx", plain["signature"])
                assert g["outputs"] == plain["outputs"]
                ins = {i["name"]: i for i in g["inputs"]}
                assert ins["task_index"] == {"name": "task_index", "type": "int64", "shape": ["batch"]}
                for i in plain["inputs"]:
                    expected = ["tasks", *i["shape"]] if i["name"].startswith("m.") else i["shape"]
                    assert ins[i["name"]] == {**i, "shape": expected}, (index_file.parent.name, kind, role, i["name"])
                assert len(ins) == len(plain["inputs"]) + 1


def test_stacked_template_metadata_is_the_unstacked_one_plus_stacked():
    def meta(name):
        model = onnx.load_from_string((TEMPLATES / B / name).read_bytes())
        return model, {p.key: p.value for p in model.metadata_props}

    for kind in STACKABLE_KINDS:
        for role in ROLES:
            plain_model, plain = meta(f"{kind}-{role}.onnx")
            model, got = meta(f"{kind}-{role}.stacked.onnx")
            assert got == plain | {"aside.stacked": "1"}
            assert (model.ir_version, model.opset_import[0].version) == (plain_model.ir_version, plain_model.opset_import[0].version) == (10, 17)
