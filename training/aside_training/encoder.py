"""The one forward pass: frozen BERT + any module kind, used for training, PyTorch
evaluation and ONNX export alike (so the exported graph is the trained computation).

Which module kind is active is decided by which `m.*` tensors are present in the dict. A module
tensor is either shared by the whole batch (its shape as in kinds.tensor_specs) or given per row,
with one extra leading batch dim (a mixed-task batch, aside_training.stacked); the shared path's
ops are exactly those the committed templates were traced from.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .backbone import Backbone, gelu


def _ln(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = (x - mu).pow(2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def _mm_t(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """h @ wᵀ for a module weight shared by the batch ([out, in]) or one per row ([batch, out, in])."""
    return h @ (w.t() if w.dim() == 2 else w.transpose(-1, -2))


def _row_bias(b: torch.Tensor) -> torch.Tensor:
    """A module bias shared by the batch ([d]) or one per row ([batch, d], broadcast over the sequence)."""
    return b if b.dim() == 1 else b.unsqueeze(1)


def _bottleneck(m: dict, prefix: str, h: torch.Tensor) -> torch.Tensor:
    z = gelu(_mm_t(h, m[prefix + ".down.weight"]) + _row_bias(m[prefix + ".down.bias"]))
    return _mm_t(z, m[prefix + ".up.weight"]) + _row_bias(m[prefix + ".up.bias"])


def _with_prefix(key, value, k, v, ext, bsz, H: int, hd: int):
    """Prepends a layer's prefix keys/values ([P, d] shared, or [batch, P, d] per row) to k and v
    ([batch, H, seq, hd]) and unmasked positions for them to the additive mask."""
    if key.dim() == 2:
        pk = key.reshape(-1, H, hd).transpose(0, 1).unsqueeze(0)  # [1,H,P,hd]
        pv = value.reshape(-1, H, hd).transpose(0, 1).unsqueeze(0)
        k = torch.cat([pk.expand(bsz, -1, -1, -1), k], dim=2)
        v = torch.cat([pv.expand(bsz, -1, -1, -1), v], dim=2)
        pm = torch.zeros_like(key[:, 0]).reshape(1, 1, 1, -1)
        return k, v, torch.cat([pm.expand(bsz, 1, 1, -1), ext], dim=3)
    pk = key.reshape(key.shape[0], key.shape[1], H, hd).transpose(1, 2)  # [B,H,P,hd]
    pv = value.reshape(value.shape[0], value.shape[1], H, hd).transpose(1, 2)
    pm = torch.zeros_like(key[:, :, 0]).reshape(key.shape[0], 1, 1, key.shape[1])
    return torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2), torch.cat([pm, ext], dim=3)


def encode(bb: Backbone, m: dict[str, torch.Tensor], input_ids, attention_mask, token_type_ids) -> torch.Tensor:
    cfg = bb.cfg
    H, hd = cfg.heads, cfg.head_dim
    bsz = input_ids.shape[0]
    seq = input_ids.shape[1]
    pos = torch.arange(seq, device=input_ids.device).unsqueeze(0)
    x = bb.get("embeddings.word_embeddings.weight")[input_ids]
    x = x + bb.get("embeddings.token_type_embeddings.weight")[token_type_ids]
    x = x + bb.get("embeddings.position_embeddings.weight")[pos]
    eb = bb.get("embeddings.LayerNorm.bias")
    if "m.emb.ln.bias" in m:
        eb = eb + _row_bias(m["m.emb.ln.bias"])
    x = _ln(x, bb.get("embeddings.LayerNorm.weight"), eb, cfg.eps)
    x0 = x
    ext = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min

    for i in range(cfg.layers):
        pre = f"m.l{i}."

        def lin(short, h):
            b = bb.layer(i, short, "bias")
            if pre + short + ".bias" in m:
                b = b + _row_bias(m[pre + short + ".bias"])
            y = h @ bb.layer(i, short, "weight").t() + b
            if pre + short + ".lora_a" in m:
                y = y + _mm_t(_mm_t(h, m[pre + short + ".lora_a"]), m[pre + short + ".lora_b"])
            return y

        def ln(short, h):
            b = bb.layer(i, short, "bias")
            if pre + short + ".bias" in m:
                b = b + _row_bias(m[pre + short + ".bias"])
            return _ln(h, bb.layer(i, short, "weight"), b, cfg.eps)

        x_in = x
        q = lin("q", x).reshape(bsz, seq, H, hd).transpose(1, 2)
        k = lin("k", x).reshape(bsz, seq, H, hd).transpose(1, 2)
        v = lin("v", x).reshape(bsz, seq, H, hd).transpose(1, 2)
        mask = ext
        if pre + "prefix.key" in m:
            k, v, mask = _with_prefix(m[pre + "prefix.key"], m[pre + "prefix.value"], k, v, ext, bsz, H, hd)
        scores = (q @ k.transpose(-1, -2)) / (hd ** 0.5) + mask
        ctx = torch.softmax(scores, dim=-1) @ v
        ctx = ctx.transpose(1, 2).reshape(bsz, seq, H * hd)
        a = lin("o", ctx)
        if pre + "adapter_attn.down.weight" in m:
            a = a + _bottleneck(m, pre + "adapter_attn", a)
        h1 = ln("ln1", a + x)
        if pre + "aside_attn.down.weight" in m:
            h1 = h1 + _bottleneck(m, pre + "aside_attn", x)
        f = lin("ffn_out", gelu(lin("ffn_in", h1)))
        if pre + "adapter_ffn.down.weight" in m:
            f = f + _bottleneck(m, pre + "adapter_ffn", f)
        if pre + "parallel_ffn.down.weight" in m:
            f = f + _bottleneck(m, pre + "parallel_ffn", h1)
        h2 = ln("ln2", f + h1)
        if pre + "aside_ffn.down.weight" in m:
            h2 = h2 + _bottleneck(m, pre + "aside_ffn", h1)
        if pre + "aside.down.weight" in m:
            h2 = h2 + _bottleneck(m, pre + "aside", x_in)
        x = h2
    if "m.aside.down.weight" in m:
        x = x + _bottleneck(m, "m.aside", x0)
    return x


def pool(last_hidden_state, attention_mask, mode: str = "mean", normalize=True):
    """The contract's pooling: masked mean, or the first ([CLS]) token."""
    if mode == "cls":
        pooled = last_hidden_state[:, 0]
        return F.normalize(pooled, dim=-1) if normalize else pooled
    return mean_pool(last_hidden_state, attention_mask, normalize)


def mean_pool(last_hidden_state, attention_mask, normalize=True):
    msk = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    pooled = (last_hidden_state * msk).sum(1) / msk.sum(1).clamp(min=1e-9)
    return F.normalize(pooled, dim=-1) if normalize else pooled


def rerank_scores(bb: Backbone, m: dict, input_ids, attention_mask, token_type_ids) -> torch.Tensor:
    """Cross-encoder score: linear head on the masked mean of the last hidden state."""
    h = encode(bb, m, input_ids, attention_mask, token_type_ids)
    pooled = mean_pool(h, attention_mask, normalize=False)
    w, b = m["m.head.weight"], m["m.head.bias"]
    if w.dim() == 2:
        return (pooled @ w.t()).squeeze(-1) + b
    return (pooled.unsqueeze(1) @ w.transpose(-1, -2)).flatten() + b.flatten()  # per row: [B,1,d] @ [B,d,1]


@torch.no_grad()
def layer_kv_activations(bb: Backbone, input_ids):
    """Per-layer key/value projections of the bare backbone (for prefix initialisation)."""
    out = []
    cfg = bb.cfg
    am = torch.ones_like(input_ids)
    tt = torch.zeros_like(input_ids)
    # run layer by layer: reuse encode with a truncated layer count is awkward; recompute inputs
    for i in range(cfg.layers):
        x = _layer_input(bb, i, input_ids, am, tt)
        k = x @ bb.layer(i, "k", "weight").t() + bb.layer(i, "k", "bias")
        v = x @ bb.layer(i, "v", "weight").t() + bb.layer(i, "v", "bias")
        out.append((k, v))
    return out


def _layer_input(bb, i, input_ids, am, tt):
    if i == 0:
        cfg = bb.cfg
        seq = input_ids.shape[1]
        x = bb.get("embeddings.word_embeddings.weight")[input_ids] + bb.get("embeddings.token_type_embeddings.weight")[tt]
        x = x + bb.get("embeddings.position_embeddings.weight")[torch.arange(seq).unsqueeze(0)]
        return _ln(x, bb.get("embeddings.LayerNorm.weight"), bb.get("embeddings.LayerNorm.bias"), cfg.eps)
    import copy

    small = copy.copy(bb)
    object.__setattr__(small, "cfg", type(bb.cfg)(**{**bb.cfg.__dict__, "layers": i}))
    return encode(small, {}, input_ids, am, tt)
