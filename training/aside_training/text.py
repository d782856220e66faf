"""Tokenisation with the backbone's tokenizer.json (same file the Node server uses), and the text
contract: how a document becomes one text, which prefixes and pooling a backbone gets. Training writes
the contract into every manifest (`text`, `prefixes`, `pooling`, `normalize`); the server reads it
(src/text/documentText.ts). test/fixtures/text-contract.json pins both sides to the same answers."""
from __future__ import annotations

from dataclasses import dataclass

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


# Training's choice since the first study: a sentence break between title and abstract.
TITLE_SEPARATOR = ". "


def doc_text(doc: dict, title_separator: str = TITLE_SEPARATOR) -> str:
    """How a BEIR document becomes one text: title + separator + text, both stripped (title omitted when empty)."""
    title = (doc.get("title") or "").strip()
    text = (doc.get("text") or "").strip()
    return f"{title}{title_separator}{text}" if title else text


@dataclass(frozen=True)
class TextContract:
    """Everything between raw text and a vector that training and serving must agree on."""
    title_separator: str
    query_prefix: str
    document_prefix: str
    pooling: str  # "mean" | "cls"
    normalize: bool

    def prefixed(self, kind: str, texts: list[str]) -> list[str]:
        p = self.query_prefix if kind == "query" else self.document_prefix
        return [p + t for t in texts]

    def manifest_fields(self, role: str) -> dict:
        """The manifest's copy of the contract; re-rankers pool inside their graph ('none')."""
        return {
            "text": {"titleSeparator": self.title_separator},
            "prefixes": {"query": self.query_prefix, "document": self.document_prefix},
            "pooling": self.pooling if role == "retriever" else "none",
            "normalize": self.normalize if role == "retriever" else False,
        }


def contract_for(entry: dict) -> TextContract:
    """Training's contract for a catalog backbone: its own pooling, normalisation and prefixes."""
    pre = entry.get("prefixes") or {}
    return TextContract(TITLE_SEPARATOR, pre.get("query", ""), pre.get("document", ""), entry["pooling"], bool(entry["normalize"]))
