"""Tokenisation with the backbone's tokenizer.json (same file the Node server uses)."""
from __future__ import annotations

import numpy as np
import torch
from tokenizers import Tokenizer

from .paths import backbone_dir

_TOK: dict[str, Tokenizer] = {}


def tokenizer(backbone_id: str) -> Tokenizer:
    if backbone_id not in _TOK:
        t = Tokenizer.from_file(str(backbone_dir(backbone_id) / "tokenizer.json"))
        t.no_padding()
        t.no_truncation()
        _TOK[backbone_id] = t
    return _TOK[backbone_id]


def _pad(encs) -> dict[str, torch.Tensor]:
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), n), dtype=np.int64)
    am = np.zeros_like(ids)
    tt = np.zeros_like(ids)
    for j, e in enumerate(encs):
        k = len(e.ids)
        ids[j, :k] = e.ids
        am[j, :k] = 1
        tt[j, :k] = e.type_ids
    return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(am), "token_type_ids": torch.from_numpy(tt)}


def encode_texts(backbone_id: str, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    """[CLS] text [SEP], truncated to max_length tokens (special tokens included), right-padded."""
    t = tokenizer(backbone_id)
    t.enable_truncation(max_length=max_length, strategy="longest_first")
    try:
        encs = t.encode_batch(texts)
    finally:
        t.no_truncation()
    return _pad(encs)


def encode_pairs(backbone_id: str, pairs: list[tuple[str, str]], max_length: int) -> dict[str, torch.Tensor]:
    """[CLS] query [SEP] document [SEP]; token_type_ids 0 then 1; HF 'longest_first' truncation
    of the pair to max_length tokens in total (special tokens included)."""
    t = tokenizer(backbone_id)
    t.enable_truncation(max_length=max_length, strategy="longest_first")
    try:
        encs = t.encode_batch([(q, d) for q, d in pairs])
    finally:
        t.no_truncation()
    return _pad(encs)


def doc_text(doc: dict) -> str:
    """How a BEIR document becomes one text: 'title. text' (title omitted when empty)."""
    title = (doc.get("title") or "").strip()
    text = (doc.get("text") or "").strip()
    return f"{title}. {text}" if title else text
