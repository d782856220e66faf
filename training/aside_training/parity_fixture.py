"""Write a parity fixture for the Node test: inputs + PyTorch outputs for one task.

    python -m aside_training.parity_fixture --task ../models/tasks/<id> --out fixture.json

Retriever: {texts, kind:"query"|"document" per text, maxLength used, embeddings (masked mean
pooled, L2-normalised) }. Reranker: {pairs:[[q,d],...], scores}. Token ids are included so a
mismatch can be traced to tokenisation vs the graph.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from .backbone import load_backbone
from .encoder import encode, pool, rerank_scores
from .task import load_task
from .text import encode_pairs, encode_texts

QUERIES = ["0-dimensional biomaterials lack inductive properties.",
           "1 in 5 million in UK have abnormal PrP positivity.",
           "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.",
           "Vitamin D deficiency"]
DOCS = ["Microstructural development of human newborn cerebral white matter assessed in vivo by diffusion tensor "
        "magnetic resonance imaging. Alterations of the architecture of cerebral white matter in the developing "
        "human brain can affect cortical development and result in functional disabilities. " * 4,
        "Prion protein. Abnormal prion protein was found in appendix samples from the UK population.",
        "Cancer stem cells. ALDH1 is a marker of normal and malignant human mammary stem cells.",
        "x"]


def build(task_dir: Path) -> dict:
    t = load_task(task_dir)
    m = t.manifest
    bb = load_backbone(m["backbone"]["id"])
    fx = {"task": m["id"], "version": m["version"], "role": m["role"], "kind": m["kind"],
          "graph": m["graph"], "tolerance": 1e-4}
    with torch.no_grad():
        if m["role"] == "retriever":
            items = []
            pre = m.get("prefixes", {})
            for kind, texts, ml in (("query", QUERIES, m["maxLength"]["query"]), ("document", DOCS, m["maxLength"]["document"])):
                texts = [pre.get(kind, "") + x for x in texts]
                b = encode_texts(bb.backbone_id, texts, ml)
                emb = pool(encode(bb, t.tensors, **b), b["attention_mask"], m["pooling"], m["normalize"])
                for j, x in enumerate(texts):
                    n = int(b["attention_mask"][j].sum())
                    items.append({"kind": kind, "text": x, "maxLength": ml,
                                  "input_ids": b["input_ids"][j, :n].tolist(), "embedding": emb[j].tolist()})
            fx["texts"] = [i["text"] for i in items]
            fx["items"] = items
            fx["embeddings"] = [i["embedding"] for i in items]
        else:
            pairs = [(q, d) for q in QUERIES[:2] for d in DOCS]
            ml = m["maxLength"]["pair"]
            b = encode_pairs(bb.backbone_id, pairs, ml)
            s = rerank_scores(bb, t.tensors, **b)
            fx["pairs"] = [list(p) for p in pairs]
            fx["maxLength"] = ml
            fx["input_ids"] = [b["input_ids"][j, : int(b["attention_mask"][j].sum())].tolist() for j in range(len(pairs))]
            fx["token_type_ids"] = [b["token_type_ids"][j, : int(b["attention_mask"][j].sum())].tolist() for j in range(len(pairs))]
            fx["scores"] = s.tolist()
    return fx


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    fx = build(a.task)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(fx, indent=1) + "\n")
    print(f"wrote {a.out} ({len(fx.get('texts') or fx.get('pairs'))} inputs)")


if __name__ == "__main__":
    main()
