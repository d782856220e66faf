"""Writes test/fixtures/text-contract.json: training's answers to the text contract (title joining,
prefixes, pooling) on fixed inputs. The TypeScript suite checks the server gives the same answers and
training/tests/test_text_contract.py checks training still does, so neither side can drift alone.

    python -m aside_training.contract_fixture [--check]
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

from .encoder import pool
from .paths import REPO
from .text import TITLE_SEPARATOR, TextContract, doc_text

OUT = REPO / "test" / "fixtures" / "text-contract.json"

DOCS = [
    {"title": "Vitamin D", "text": "Low serum 25-hydroxyvitamin D is common."},
    {"title": "", "text": "A document without a title."},
    {"title": "  Padded title ", "text": "  padded text  "},
    {"title": "Title only punctuation.", "text": "Body."},
]
CONTRACTS = [
    TextContract(TITLE_SEPARATOR, "", "", "mean", True),
    TextContract(" ", "", "", "mean", True),
    TextContract(" ", "query: ", "passage: ", "mean", True),
    TextContract(TITLE_SEPARATOR, "Represent this sentence for searching relevant passages: ", "", "cls", True),
    TextContract(TITLE_SEPARATOR, "", "", "mean", False),
]


def _hidden() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    h = torch.randn(2, 4, 3, generator=g)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    return h, mask


def build() -> dict:
    h, mask = _hidden()
    cases = []
    for c in CONTRACTS:
        docs = [doc_text(d, c.title_separator) for d in DOCS]
        cases.append({
            "contract": {**c.manifest_fields("retriever")},
            "documents": c.prefixed("document", docs),
            "queries": c.prefixed("query", ["vitamin d and cancer"]),
            "pooled": [[round(x, 6) for x in row] for row in pool(h, mask, c.pooling, c.normalize).tolist()],
        })
    return {
        "about": "training's answers to the text contract; regenerate with python -m aside_training.contract_fixture",
        "trainingTitleSeparator": TITLE_SEPARATOR,
        "inputs": {"documents": DOCS, "hidden": [[[round(x, 6) for x in t] for t in row] for row in h.tolist()], "mask": mask.tolist()},
        "cases": cases,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="fail if the committed fixture differs")
    a = ap.parse_args(argv)
    text = json.dumps(build(), indent=1) + "\n"
    if a.check:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT} is out of date: training's text contract changed (regenerate and update src/text/ to match)")
        print("text contract fixture: up to date")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
