"""The export contract: module tensors are pure graph inputs with dynamic budget dims, the
signature recomputed from the graph matches the manifest, identity modules reproduce the
backbone, and a saved task round-trips."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from aside_training.backbone import load_backbone
from aside_training.encoder import encode, rerank_scores
from aside_training.export_graph import IR_VERSION, export, signature_of_graph, signature_of_specs
from aside_training.kinds import PRESETS, identity_module, init_module, tensor_specs
from aside_training.task import build_manifest, load_task, save_task
from aside_training.text import encode_pairs, encode_texts

B = "all-MiniLM-L6-v2"


@pytest.mark.parametrize("kind,role", [("iaa-l", "retriever"), ("prefix", "reranker")])
def test_graph_inputs_and_parity(tmp_path, kind, role):
    bb = load_backbone(B)
    path = export(B, kind, role, tmp_path / f"{kind}-{role}.onnx")
    model = onnx.load(str(path))
    assert model.ir_version == IR_VERSION
    inits = {i.name for i in model.graph.initializer}
    inputs = {i.name: i for i in model.graph.input}
    specs = tensor_specs(kind, role, bb.cfg, PRESETS["0.5"][kind])
    for name, sp in specs.items():
        assert name in inputs and name not in inits
        dims = inputs[name].type.tensor_type.shape.dim
        for ax, sym in sp.dims.items():
            assert dims[ax].dim_param, f"{name} axis {ax} should be dynamic"
    assert signature_of_graph(model) == signature_of_specs(specs)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    mod = {k: v + 0.02 * torch.randn(v.shape) for k, v in init_module(kind, role, bb, PRESETS["0.5"][kind], 3).items()}
    if role == "retriever":
        b = encode_texts(B, ["hello world", "a longer sentence about cells"], 32)
        ref = encode(bb, mod, **b).detach().numpy()
        out = "last_hidden_state"
    else:
        b = encode_pairs(B, [("q one", "doc one is here"), ("q", "d")], 32)
        ref = rerank_scores(bb, mod, **b).detach().numpy()
        out = "scores"
    feeds = {k: v.numpy() for k, v in b.items()} | {k: v.detach().numpy() for k, v in mod.items()}
    got = sess.run([out], feeds)[0]
    if role == "retriever":
        m = b["attention_mask"].numpy().astype(bool)
        assert np.abs(got - ref)[m].max() <= 1e-4
    else:
        assert np.abs(got - ref).max() <= 1e-4


def test_identity_is_backbone():
    bb = load_backbone(B)
    b = encode_texts(B, ["identity check"], 16)
    with torch.no_grad():
        bare = encode(bb, {}, **b)
        for kind in ["bitfit", "adapter", "lora", "prefix", "mam", "iaa-s", "iaa-l", "iaa-m"]:
            assert torch.equal(encode(bb, identity_module(kind, "retriever", bb.cfg), **b), bare), kind


def test_init_module_starts_at_backbone():
    bb = load_backbone(B)
    b = encode_texts(B, ["identity check"], 16)
    with torch.no_grad():
        bare = encode(bb, {}, **b)
        for kind in ["adapter", "lora", "iaa-s", "iaa-l", "iaa-m"]:
            m = init_module(kind, "retriever", bb, PRESETS["0.5"][kind], 0)
            assert (encode(bb, m, **b) - bare).abs().max() < 1e-5, kind


def test_task_roundtrip(tmp_path):
    bb = load_backbone(B)
    hp = PRESETS["0.5"]["lora"]
    t = init_module("lora", "reranker", bb, hp, 0)
    man = build_manifest(task_id="t", version="1", role="reranker", kind="lora", hp=hp, backbone_id=B, tensors=t,
                         max_length={"pair": 128}, training={}, metrics={}, backbone_params=bb.num_params())
    save_task(tmp_path / "t", man, t)
    back = load_task(tmp_path / "t")
    assert back.manifest["budget"]["trainable_params"] == sum(v.numel() for v in t.values())
    assert back.manifest["graph"]["file"] == f"{B}/lora-reranker.onnx"
    for k in t:
        assert torch.equal(back.tensors[k], t[k])
