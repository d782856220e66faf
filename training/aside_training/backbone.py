"""Load a catalog ONNX BERT encoder into frozen PyTorch tensors.

HF ONNX exports keep biases and LayerNorm parameters under their PyTorch names but store
linear weights as unnamed, pre-transposed `onnx::MatMul_*` initializers. We name each of them
from its graph position: the MatMul's output feeds an Add whose other operand is a named bias
(`encoder.layer.3.attention.self.key.bias` -> the MatMul weight is that layer's key weight).
Weights are stored here in PyTorch `nn.Linear` layout [out, in].
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .paths import backbone_dir


@dataclass(frozen=True)
class BertConfig:
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def _constants(graph) -> dict[str, np.ndarray]:
    out = {}
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    out[n.output[0]] = numpy_helper.to_array(a.t)
    return out


def load_onnx_bert(model_path: Path) -> tuple[BertConfig, dict[str, torch.Tensor]]:
    model = onnx.load(str(model_path))
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    consts = _constants(g)
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    weights: dict[str, np.ndarray] = {}
    for name, arr in inits.items():
        if not name.startswith("onnx::"):
            weights[name] = arr
    # Name each unnamed MatMul weight by the bias its output is added to.
    for n in g.node:
        if n.op_type != "MatMul" or n.input[1] not in inits or not n.input[1].startswith("onnx::"):
            continue
        bias = None
        for c in consumers.get(n.output[0], []):
            if c.op_type == "Add":
                other = [i for i in c.input if i != n.output[0]]
                if other and other[0].endswith(".bias") and other[0] in inits:
                    bias = other[0]
        if bias is None:
            raise ValueError(f"cannot name MatMul weight {n.input[1]}: no named bias follows it")
        weights[bias[: -len(".bias")] + ".weight"] = inits[n.input[1]].T.copy()  # -> [out, in]

    layers = 1 + max(int(k.split(".")[2]) for k in weights if k.startswith("encoder.layer."))
    hidden = weights["embeddings.word_embeddings.weight"].shape[1]
    ffn = weights["encoder.layer.0.intermediate.dense.weight"].shape[0]
    # heads: the key Reshape target is [batch, seq, heads, head_dim] built from constants
    heads = None
    for n in g.node:
        if n.op_type == "Concat" and "/layer.0/attention/self/" in n.output[0]:
            vals = [int(consts[i].reshape(-1)[0]) for i in n.input if i in consts]
            if len(vals) == 2 and vals[0] * vals[1] == hidden:
                heads = vals[0]
                break
    if heads is None:
        heads = hidden // 64 if hidden % 64 == 0 and hidden > 384 else 12
    eps = 1e-12
    for k, v in consts.items():
        if "LayerNorm/Constant_1" in k:
            eps = float(v)
            break
    for required in ("embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight"):
        if required not in weights:
            raise ValueError(f"{model_path}: missing {required}; not a BERT export this loader understands")
    cfg = BertConfig(
        layers=layers, hidden=hidden, heads=heads, ffn=ffn,
        vocab=weights["embeddings.word_embeddings.weight"].shape[0],
        max_positions=weights["embeddings.position_embeddings.weight"].shape[0], eps=eps,
    )
    tensors = {k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in weights.items() if k != "embeddings.position_ids"}
    return cfg, tensors


# Short names used by the forward pass, per layer.
LINEARS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "o": "attention.output.dense",
    "ffn_in": "intermediate.dense",
    "ffn_out": "output.dense",
}
LAYERNORMS = {"ln1": "attention.output.LayerNorm", "ln2": "output.LayerNorm"}


class Backbone(torch.nn.Module):
    """Frozen BERT weights as parameters (requires_grad False unless full fine-tuning)."""

    def __init__(self, backbone_id: str, cfg: BertConfig, tensors: dict[str, torch.Tensor]):
        super().__init__()
        self.backbone_id = backbone_id
        self.cfg = cfg
        self.w = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v, requires_grad=False) for k, v in tensors.items()})

    def get(self, name: str) -> torch.Tensor:
        return self.w[name.replace(".", "__")]

    def layer(self, i: int, short: str, part: str) -> torch.Tensor:
        base = LINEARS.get(short) or LAYERNORMS[short]
        return self.get(f"encoder.layer.{i}.{base}.{part}")

    def num_params(self) -> int:
        return sum(p.numel() for p in self.w.values())

    def named_weights(self) -> dict[str, torch.Tensor]:
        return {k.replace("__", "."): v for k, v in self.w.items()}


_CACHE: dict[str, tuple[BertConfig, dict[str, torch.Tensor]]] = {}


def load_backbone(backbone_id: str) -> Backbone:
    if backbone_id not in _CACHE:
        _CACHE[backbone_id] = load_onnx_bert(backbone_dir(backbone_id) / "model.onnx")
    cfg, tensors = _CACHE[backbone_id]
    return Backbone(backbone_id, cfg, {k: v.clone() for k, v in tensors.items()})


def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
