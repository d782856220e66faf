"""Mixed-task batches: the module tensors of several tasks stacked, one forward pass for all of them.

A stacked module holds every tensor of its kind with one extra leading `tasks` dim (the tasks'
tensors must have equal shapes: same kind, role and budget). `task_index[i]` says which task row i
belongs to; the forward pass gathers each tensor per row (`[batch, ...]`) and runs the one encoder
with per-row module tensors, so row i equals its task run alone. The exported graph is
`<kind>-<role>.stacked.onnx` (docs/module-format.md, "Stacked graphs").

Every exported kind mixes: each one's module is a set of additive tensors (biases, bottlenecks, LoRA
factors, prefixes, head) that the encoder applies per row as easily as per batch. Full fine-tuning
cannot: its "module" is the backbone's weights themselves, which are graph initializers shared by
every row.
"""
from __future__ import annotations

import torch

from .backbone import Backbone
from .encoder import encode, rerank_scores
from .kinds import KINDS

STACKABLE_KINDS = list(KINDS)


def stack_modules(modules: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Tasks' modules (equal names and shapes) -> one module whose tensors are [tasks, ...]."""
    names = sorted(modules[0])
    for j, mod in enumerate(modules[1:], start=1):
        if sorted(mod) != names or any(mod[n].shape != modules[0][n].shape for n in names):
            raise ValueError(f"module {j} differs in tensor names or shapes from module 0: tasks of one stack must match")
    return {n: torch.stack([mod[n] for mod in modules]) for n in names}


def pad_budget(module: dict[str, torch.Tensor], shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """A module zero-padded to a larger budget of its kind (`shapes`: name -> target shape), so tasks of
    different ranks can share one stack. Exact: a zero row of a down-projection or LoRA A, with its
    zero bias, yields a zero activation (gelu(0) = 0) that meets a zero column of the up-projection or
    LoRA B. Prefix lengths cannot be padded: a zero key row is still attended (score 0, not masked)."""
    out = {}
    for n, t in module.items():
        target = tuple(shapes[n])
        if n.endswith((".prefix.key", ".prefix.value")) and target != tuple(t.shape):
            raise ValueError(f"{n}: prefix length {t.shape[0]} cannot be padded to {target[0]} (padding rows would be attended)")
        if any(a < b for a, b in zip(target, t.shape)) or len(target) != t.dim():
            raise ValueError(f"{n}: cannot pad shape {tuple(t.shape)} to {target}")
        padded = t.new_zeros(target)
        padded[tuple(slice(0, k) for k in t.shape)] = t
        out[n] = padded
    return out


def rows_of(stacked: dict[str, torch.Tensor], task_index: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each stacked tensor gathered per row: [tasks, ...] -> [batch, ...]."""
    return {n: torch.index_select(t, 0, task_index) for n, t in stacked.items()}


def stacked_forward(bb: Backbone, role: str, stacked: dict[str, torch.Tensor], task_index,
                    input_ids, attention_mask, token_type_ids) -> torch.Tensor:
    """The stacked graph's computation: `last_hidden_state` (retriever) or `scores` (reranker)."""
    m = rows_of(stacked, task_index)
    if role == "retriever":
        return encode(bb, m, input_ids, attention_mask, token_type_ids)
    return rerank_scores(bb, m, input_ids, attention_mask, token_type_ids)
