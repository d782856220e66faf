"""nDCG@10 cost and bytes per document of compressing late-interaction token states.

    training/.venv/bin/python -m aside_training.late_compression --store .aside/indexes/tokens-scifact-XXXX \\
        --collection scifact --hits /tmp/scifact-test-es.jsonl

Reads a token store written by the server (states.bin + meta.json: per record float32 scales then
int8 values) and a hits file of `npm run eval -- ... --hits-out` (its candidates, e.g. Elasticsearch
BM25 top 100), encodes the queries with the same ONNX backbone, and re-ranks the candidates by MaxSim
with the stored int8 states and with PCA projections of them (fitted on a sample of the corpus's own
token states: unsupervised, no queries or judgements), re-quantised to int8. Special tokens excluded,
as the shipped task does. Prints one JSON line per variant.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from .data import _read_qrels
from .maxsim_kernel import quantize, unit
from .paths import DATASETS

REPO = Path(__file__).resolve().parents[2]


def ndcg10(ranked: list[str], judged: dict[str, int]) -> float:
    dcg = sum(judged.get(d, 0) / np.log2(i + 2) for i, d in enumerate(ranked[:10]) if judged.get(d, 0) > 0)
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


class Store:
    def __init__(self, d: Path):
        self.meta = json.loads((d / "meta.json").read_text())
        self.raw = np.memmap(d / "states.bin", dtype=np.uint8, mode="r")
        self.dims = self.meta["dims"]
        self.index = {i: k for k, i in enumerate(self.meta["ids"])}

    def states(self, doc: str, drop_special: bool = True) -> np.ndarray:
        first, count = self.meta["docs"][self.index[doc]]
        out = []
        for r in range(first, first + count):
            off, t = self.meta["records"][r]
            scales = self.raw[off: off + 4 * t].view(np.float32)
            vals = self.raw[off + 4 * t: off + 4 * t + t * self.dims].view(np.int8).reshape(t, self.dims)
            v = vals.astype(np.float32) * scales[:, None]
            out.append(v[1:-1] if drop_special and t > 2 else v)
        return np.concatenate(out)


def encode_queries(texts: list[str], max_len: int = 64) -> list[np.ndarray]:
    model = REPO / ".aside" / "models" / "all-MiniLM-L6-v2"
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    s = ort.InferenceSession(str(model / "model.onnx"), providers=["CPUExecutionProvider"])
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    out = []
    for t in texts:
        ids = [cls] + tok.encode(t, add_special_tokens=False).ids[: max_len - 2] + [sep]
        a = np.array([ids], np.int64)
        h = s.run(["last_hidden_state"], {"input_ids": a, "attention_mask": np.ones_like(a), "token_type_ids": np.zeros_like(a)})[0][0]
        out.append(unit(h[1:-1] if len(ids) > 2 else h))
    return out


def maxsim(q: np.ndarray, d: np.ndarray) -> float:
    return float((q @ d.T).max(axis=1).sum())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--hits", type=Path, required=True)
    ap.add_argument("--dims", default="128,64")
    ap.add_argument("--fit-tokens", type=int, default=200_000)
    a = ap.parse_args(argv)
    store = Store(a.store)
    qrels = _read_qrels(DATASETS / a.collection / "qrels" / f"{a.split}.tsv")
    queries = {}
    for line in open(DATASETS / a.collection / "queries.jsonl"):
        q = json.loads(line)
        queries[q["_id"]] = q["text"]
    runs = [json.loads(l) for l in a.hits.read_text().splitlines() if l.strip()]
    runs = [r for r in runs if r["query"] in qrels]
    qstates = encode_queries([queries[r["query"]] for r in runs])
    rng = np.random.default_rng(0)
    ids = store.meta["ids"]
    sample = np.concatenate([store.states(ids[i]) for i in rng.choice(len(ids), size=min(len(ids), 2000), replace=False)])
    sample = sample[rng.choice(len(sample), size=min(len(sample), a.fit_tokens), replace=False)]
    mean = sample.mean(axis=0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    tokens_per_doc = np.mean([t for _, t in store.meta["records"]])
    variants = [("int8, 384 dims (as served)", None)] + [(f"PCA {k} dims + int8", int(k)) for k in a.dims.split(",")]
    cache: dict[str, np.ndarray] = {}
    for name, k in variants:
        proj = None if k is None else vt[:k].T  # [384, k]; centred projection keeps cosine structure best
        total = 0.0
        for r, q in zip(runs, qstates):
            cand = [h["id"] for h in r["hits"]]
            qq = q if proj is None else unit((q - mean) @ proj)
            scores = []
            for d in cand:
                if d not in cache:
                    cache[d] = store.states(d)
                dd = cache[d]
                if proj is not None:
                    qd, sc = quantize(unit((dd - mean) @ proj))
                    dd = qd.astype(np.float32) * sc[:, None]
                scores.append(maxsim(qq, dd))
            ranked = [cand[i] for i in np.argsort(-np.array(scores), kind="stable")]
            total += ndcg10(ranked, qrels[r["query"]])
        dims = store.dims if k is None else k
        print(json.dumps({"collection": a.collection, "split": a.split, "queries": len(runs), "variant": name,
                          "ndcg@10": round(total / len(runs), 4), "bytes_per_token": dims + 4,
                          "bytes_per_doc": round(tokens_per_doc * (dims + 4) * len(store.meta["records"]) / len(ids))}), flush=True)


if __name__ == "__main__":
    main()
