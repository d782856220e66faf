"""Late interaction in PyTorch, as the server scores it: unit-length token states with [CLS]/[SEP]
excluded, MaxSim = for each query token the best cosine against the document's tokens, summed."""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from .backbone import Backbone
from .encoder import encode, pool
from .paths import catalog_entry
from .text import contract_for, encode_texts


def content_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """attention_mask without the first ([CLS]) and last real ([SEP]) token of each row, as bool."""
    m = attention_mask.bool().clone()
    m[:, 0] = False
    m[torch.arange(m.shape[0]), attention_mask.sum(1) - 1] = False
    return m


def maxsim_matrix(q: torch.Tensor, qmask: torch.Tensor, d: torch.Tensor, dmask: torch.Tensor) -> torch.Tensor:
    """q [B, Lq, D], d [N, Ld, D] (unit), masks bool -> [B, N]: for every query and document, per counted
    query token the best cosine against the document's tokens, summed."""
    sim = torch.einsum("bqh,nlh->bnql", q, d).masked_fill(~dmask[None, :, None, :], -1e4)
    return (sim.max(dim=3).values * qmask[:, None, :]).sum(dim=2)


def maxsim(q: torch.Tensor, docs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One query's counted tokens q [Lq, D] against docs [N, Ld, D] with mask [N, Ld] -> [N]."""
    return maxsim_matrix(q[None], torch.ones(1, q.shape[0]), docs, mask)[0]


def pad_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Variable-length [L_i, D] states -> float32 [N, L, D] and a bool mask [N, L]."""
    L = max(s.shape[0] for s in states)
    out = torch.zeros(len(states), L, states[0].shape[1])
    mask = torch.zeros(len(states), L, dtype=torch.bool)
    for i, s in enumerate(states):
        out[i, : s.shape[0]] = s.float()
        mask[i, : s.shape[0]] = True
    return out, mask


@torch.no_grad()
def token_states(bb: Backbone, module: dict, texts: list[str], max_len: int, kind: str = "document",
                 batch: int = 32, label: str = "") -> tuple[list[torch.Tensor], torch.Tensor]:
    """Per text its unit token states without special tokens (fp16), and the vector the server's dense
    stage pools from the same pass (the backbone's contract pooling and normalisation)."""
    c = contract_for(catalog_entry(bb.backbone_id))
    texts = c.prefixed(kind, texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    states: list[torch.Tensor] = [torch.empty(0)] * len(texts)
    pooled = torch.empty(len(texts), bb.cfg.hidden)
    t0 = time.time()
    for s in range(0, len(order), batch):
        idx = order[s: s + batch]
        b = encode_texts(bb.backbone_id, [texts[i] for i in idx], max_len)
        h = encode(bb, module, **b)
        am = b["attention_mask"]
        pooled[idx] = pool(h, am, c.pooling, c.normalize)
        keep = content_mask(am)
        for j, i in enumerate(idx):
            states[i] = F.normalize(h[j][keep[j]], dim=-1).half()
        done = min(s + batch, len(order))
        if label and ((done // batch) % 20 == 0 or done == len(order)):
            print(f"  {label}: {done}/{len(order)} texts, {time.time() - t0:.0f} s", flush=True)
    return states, pooled
