"""Module kinds: which tensors a module has, their shapes, budgets and initialisation.

Every module is a flat dict `name -> float32 tensor`. Names start with `m.` and are graph
inputs of the exported ONNX graph (docs/module-format.md). Dimensions that depend on the
budget (rank, bottleneck, prefix length) are dynamic in the graph; their symbolic names are
given here in `dims`. All deltas are additive and every up-projection / LoRA B starts at
zero, so a freshly initialised module (prefix-tuning: with zero-length prefixes) reproduces
the bare backbone exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .backbone import LINEARS, Backbone, BertConfig

KINDS = ["bitfit", "adapter", "lora", "lora-all", "prefix", "mam", "iaa-s", "iaa-l", "iaa-m"]
TRAIN_ONLY_KINDS = ["full"]  # full fine-tuning: the reference, not exportable as a module
ROLES = ["retriever", "reranker"]

# Budget presets for MiniLM-L6 (22.57M backbone parameters); "0.5%" ≈ 113k and "5%" ≈ 1.13M.
# Reranker modules add 385 parameters for the scoring head.
PRESETS: dict[str, dict[str, dict]] = {
    "0.5": {
        "bitfit": {},
        "adapter": {"r": 12},
        "lora": {"r": 12},
        "lora-all": {"r": 3},
        "prefix": {"prefix": 24},
        "mam": {"prefix": 12, "r": 12},
        "iaa-s": {"r": 6, "ra": 5},
        "iaa-l": {"r": 6, "ra": 10},
        "iaa-m": {"r": 6, "ra": 64},
        "full": {},
    },
    "5": {
        "adapter": {"r": 120},
        "lora": {"r": 120},
        "lora-all": {"r": 30},
        "prefix": {"prefix": 240},
        "mam": {"prefix": 120, "r": 120},
        "iaa-s": {"r": 60, "ra": 50},
        "iaa-l": {"r": 60, "ra": 100},
        "iaa-m": {"r": 60, "ra": 640},
    },
    "smoke": {k: v for k, v in {
        "bitfit": {}, "adapter": {"r": 2}, "lora": {"r": 2}, "lora-all": {"r": 2}, "prefix": {"prefix": 2},
        "mam": {"prefix": 2, "r": 2}, "iaa-s": {"r": 2, "ra": 2}, "iaa-l": {"r": 2, "ra": 2}, "iaa-m": {"r": 2, "ra": 4},
        "full": {},
    }.items()},
}

BITFIT_BIASES = ["q", "k", "v", "o", "ffn_in", "ffn_out", "ln1", "ln2"]


@dataclass
class TensorSpec:
    shape: tuple[int, ...]
    dims: dict[int, str] = field(default_factory=dict)  # axis -> symbolic (dynamic) dim name


def _bottleneck(prefix: str, d: int, r: int, dim: str) -> dict[str, TensorSpec]:
    return {
        f"{prefix}.down.weight": TensorSpec((r, d), {0: dim}),
        f"{prefix}.down.bias": TensorSpec((r,), {0: dim}),
        f"{prefix}.up.weight": TensorSpec((d, r), {1: dim}),
        f"{prefix}.up.bias": TensorSpec((d,)),
    }


def lora_targets(kind: str) -> list[str]:
    return list(LINEARS) if kind == "lora-all" else ["q", "v"]


def tensor_specs(kind: str, role: str, cfg: BertConfig, hp: dict) -> dict[str, TensorSpec]:
    d, L = cfg.hidden, cfg.layers
    s: dict[str, TensorSpec] = {}
    if kind == "bitfit":
        s["m.emb.ln.bias"] = TensorSpec((d,))
        for i in range(L):
            for b in BITFIT_BIASES:
                s[f"m.l{i}.{b}.bias"] = TensorSpec((cfg.ffn if b == "ffn_in" else d,))
    elif kind in ("lora", "lora-all"):
        r = hp["r"]
        for i in range(L):
            for t in lora_targets(kind):
                din = cfg.ffn if t == "ffn_out" else d
                dout = cfg.ffn if t == "ffn_in" else d
                s[f"m.l{i}.{t}.lora_a"] = TensorSpec((r, din), {0: "r"})
                s[f"m.l{i}.{t}.lora_b"] = TensorSpec((dout, r), {1: "r"})
    elif kind in ("adapter", "iaa-s", "iaa-l", "iaa-m"):
        r = hp["r"]
        for i in range(L):
            s.update(_bottleneck(f"m.l{i}.adapter_attn", d, r, "r"))
            s.update(_bottleneck(f"m.l{i}.adapter_ffn", d, r, "r"))
        if kind == "iaa-s":
            for i in range(L):
                s.update(_bottleneck(f"m.l{i}.aside_attn", d, hp["ra"], "ra"))
                s.update(_bottleneck(f"m.l{i}.aside_ffn", d, hp["ra"], "ra"))
        elif kind == "iaa-l":
            for i in range(L):
                s.update(_bottleneck(f"m.l{i}.aside", d, hp["ra"], "ra"))
        elif kind == "iaa-m":
            s.update(_bottleneck("m.aside", d, hp["ra"], "ra"))
    elif kind in ("prefix", "mam"):
        p = hp["prefix"]
        for i in range(L):
            s[f"m.l{i}.prefix.key"] = TensorSpec((p, d), {0: "prefix"})
            s[f"m.l{i}.prefix.value"] = TensorSpec((p, d), {0: "prefix"})
        if kind == "mam":
            for i in range(L):
                s.update(_bottleneck(f"m.l{i}.parallel_ffn", d, hp["r"], "r"))
    elif kind == "full":
        pass
    else:
        raise ValueError(f"unknown kind {kind!r}; known: {KINDS + TRAIN_ONLY_KINDS}")
    if role == "reranker":
        s["m.head.weight"] = TensorSpec((1, d))
        s["m.head.bias"] = TensorSpec((1,))
    elif role != "retriever":
        raise ValueError(f"unknown role {role!r}")
    return s


def count(specs: dict[str, TensorSpec]) -> int:
    n = 0
    for sp in specs.values():
        k = 1
        for x in sp.shape:
            k *= x
        n += k
    return n


def identity_module(kind: str, role: str, cfg: BertConfig, hp: dict | None = None) -> dict[str, torch.Tensor]:
    """The module that reproduces the bare backbone (all zeros; prefixes of length 0)."""
    hp = dict(hp or PRESETS["smoke"].get(kind, {}))
    if "prefix" in hp:
        hp["prefix"] = 0
    return {n: torch.zeros(sp.shape) for n, sp in tensor_specs(kind, role, cfg, hp).items()}


@torch.no_grad()
def init_module(kind: str, role: str, backbone: Backbone, hp: dict, seed: int) -> dict[str, torch.Tensor]:
    """Training initialisation: down-projections / LoRA A random, up-projections / LoRA B zero,
    prefixes from the key/value activations of random vocabulary tokens (Li & Liang's 'real word'
    initialisation), reranker head zero weight."""
    cfg = backbone.cfg
    g = torch.Generator().manual_seed(seed)
    specs = tensor_specs(kind, role, cfg, hp)
    out: dict[str, torch.Tensor] = {}
    prefix_kv = _prefix_activations(backbone, hp.get("prefix", 0), g) if "prefix" in hp else None
    for name, sp in specs.items():
        if name.endswith(".down.weight") or name.endswith(".lora_a"):
            t = torch.randn(sp.shape, generator=g) / sp.shape[1] ** 0.5
        elif name.endswith("prefix.key") or name.endswith("prefix.value"):
            i = int(name.split(".")[1][1:])
            t = prefix_kv[i][0 if name.endswith("key") else 1].clone()
        else:
            t = torch.zeros(sp.shape)
        out[name] = t.float().contiguous()
    return out


def _prefix_activations(backbone: Backbone, p: int, g: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    from .encoder import layer_kv_activations

    ids = torch.randint(1000, backbone.cfg.vocab, (1, max(p, 1)), generator=g)
    kv = layer_kv_activations(backbone, ids)
    return [(k[0, :p], v[0, :p]) for k, v in kv]
