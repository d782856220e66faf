"""Reference outputs the TypeScript tests compare against, so `npm test` needs no Python.

    training/.venv/bin/python -m aside_training.node_fixtures            # (re)write test/fixtures/
    training/.venv/bin/python -m aside_training.node_fixtures --check    # committed == fresh (CI training step)

- graph-parity/<backbone>.json: for every kind x role, the outputs of the full exported graph (weights
  inside, as `export_graph` writes it) on fixed token ids, with module tensors drawn from a 32-bit LCG
  that test/helpers/seededModule.ts reproduces exactly. The Node test binds the committed template
  and must match within 1e-5; here the template bound the same way must match the full graph exactly.
- shipped-tasks/<id>.json: PyTorch outputs of each shipped task (aside_training.parity_fixture).
- base-embeddings.json: the bare backbone through onnxruntime-python + `tokenizers`, pooled with numpy
  (code independent of Aside's) on sentences that tokenizers get wrong.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from .backbone import load_backbone
from .export_graph import export
from .kinds import KINDS, PRESETS, ROLES, tensor_specs
from .parity_fixture import build as task_fixture
from .paths import REPO, TASKS, backbone_dir, catalog_entry
from .template import bound_session
from .text import encode_pairs, encode_texts

FIXTURES = REPO / "test" / "fixtures"
BACKBONE = "all-MiniLM-L6-v2"
SCALE = 0.05
TEXTS = ["Vitamin D deficiency is associated with an increased risk of cancer.",
         "p53 mutations occur in ~50% of human cancers.", "short", "Café naïve résumé — Ünïcode façade."]
PAIRS = [(TEXTS[0], "Low serum 25-hydroxyvitamin D is associated with higher incidence of colorectal cancer."),
         (TEXTS[1], "The stock market fell sharply on Monday."), (TEXTS[2], TEXTS[3])]
SENTENCES = [
    "Hello world!",
    "Vitamin D deficiency is associated with an increased risk of cancer.",
    "Café naïve résumé — Ünïcode façade.",
    "東京は日本の首都です。",
    "The quick brown fox jumps over the lazy dog.",
    "ALL CAPS SENTENCE WITH NUMBERS 12345 AND SYMBOLS #$%.",
    "e-mail: someone@example.com, url: https://example.org/path?q=1",
    "Tab\tseparated\tvalues and\nnewlines.",
    "Don't stop believin'; it's the users' choice.",
    "p53 mutations occur in ~50% of human cancers (Hollstein et al., 1991).",
    "Ḿöŕé ďíáćŕíťíćś ẁíťh ćőḿƀíńíńǵ ḿáŕḱś.",
    "Emoji are words too 😀🚀.",
    "A" + " very" * 400 + " long sentence that must be truncated.",
    *[f"Sentence number {i} about protein {chr(65 + i % 26)}{i} binding to receptor {i * 7} in cell line HeLa-{i}." for i in range(37)],
]


def lcg_tensors(specs: list[tuple[str, list[int]]], seed: int, scale: float) -> dict[str, np.ndarray]:
    """Tensors in the given order, row-major, from x <- (1664525 x + 1013904223) mod 2^32,
    value = (x / 2^32 - 0.5) * scale rounded to float32 (same as test/helpers/seededModule.ts)."""
    x = seed & 0xFFFFFFFF
    out = {}
    for name, shape in specs:
        n = int(np.prod(shape)) if shape else 1
        vals = np.empty(n, dtype=np.float64)
        for i in range(n):
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            vals[i] = (x / 2**32 - 0.5) * scale
        out[name] = vals.astype(np.float32).reshape(shape)
    return out


def _batch(role: str) -> dict[str, np.ndarray]:
    b = encode_texts(BACKBONE, TEXTS, 64) if role == "retriever" else encode_pairs(BACKBONE, PAIRS, 64)
    return {k: v.numpy() for k, v in b.items()}


def _output(sess: ort.InferenceSession, role: str, feeds: dict) -> np.ndarray:
    if role == "reranker":
        return sess.run(["scores"], feeds)[0].astype(np.float64)
    h = sess.run(["last_hidden_state"], feeds)[0].astype(np.float64)
    m = feeds["attention_mask"][..., None].astype(np.float64)
    return (h * m).sum(1) / m.sum(1)  # masked mean, not normalised


def graph_parity(backbone_id: str = BACKBONE) -> dict:
    bb = load_backbone(backbone_id)
    backbone_file = backbone_dir(backbone_id) / "model.onnx"
    fx = {"backbone": backbone_id, "backboneSha256": catalog_entry(backbone_id)["files"]["model"]["sha256"],
          "generator": "lcg32", "scale": SCALE, "tolerance": 1e-5, "batches": {}, "graphs": {}}
    for role in ROLES:
        fx["batches"][role] = {k: v.tolist() for k, v in _batch(role).items()}
    with tempfile.TemporaryDirectory() as td:
        for seed, (kind, role) in enumerate((k, r) for k in KINDS for r in ROLES):
            specs = tensor_specs(kind, role, bb.cfg, PRESETS["smoke"][kind])
            order = [(n, list(specs[n].shape)) for n in sorted(specs)]
            module = lcg_tensors(order, seed + 1, SCALE)
            feeds = {k: np.array(v, dtype=np.int64) for k, v in fx["batches"][role].items()} | module
            full = export(backbone_id, kind, role, Path(td) / f"{kind}-{role}.onnx")
            ref = _output(ort.InferenceSession(str(full), providers=["CPUExecutionProvider"]), role, feeds)
            tpl = export(backbone_id, kind, role, Path(td) / "t" / f"{kind}-{role}.onnx", template=True)
            got = _output(bound_session(tpl.read_bytes(), backbone_file), role, feeds)
            if not np.array_equal(ref, got):
                raise RuntimeError(f"{kind}-{role}: the bound template differs from the full graph by {np.abs(ref - got).max()}")
            fx["graphs"][f"{kind}-{role}"] = {"seed": seed + 1, "tensors": [{"name": n, "shape": s} for n, s in order],
                                              "output": ref.tolist()}
            print(f"  {kind}-{role}: template == full graph")
    return fx


def base_embeddings(backbone_id: str = BACKBONE) -> dict:
    entry = catalog_entry(backbone_id)
    d = backbone_dir(backbone_id)
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=entry["maxLength"])
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    out = []
    for text in SENTENCES:
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)} | ({"token_type_ids": np.zeros_like(ids)} if "token_type_ids" in names else {})
        hidden = sess.run(None, feeds)[0][0]
        v = hidden[0] if entry["pooling"] == "cls" else hidden.mean(axis=0)
        v = (v / max(np.linalg.norm(v), 1e-12)).astype("<f4")
        out.append(base64.b64encode(v.tobytes()).decode())
    return {"backbone": backbone_id, "backboneSha256": entry["files"]["model"]["sha256"], "tolerance": 1e-4,
            "encoding": "base64 float32 little-endian", "texts": SENTENCES, "embeddings": out}


def all_fixtures() -> dict[str, dict]:
    files = {f"graph-parity/{BACKBONE}.json": graph_parity(), "base-embeddings.json": base_embeddings()}
    for t in sorted(p for p in TASKS.iterdir() if (p / "manifest.json").exists()):
        if "graph" in json.loads((t / "manifest.json").read_text()):  # module tasks; late interaction has no graph
            files[f"shipped-tasks/{t.name}.json"] = task_fixture(t)
    return files


def _close(a, b, tol: float) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tol
    if isinstance(a, str) and isinstance(b, str) and len(a) > 64 and a != b:  # base64 float32 vectors
        x, y = (np.frombuffer(base64.b64decode(s), dtype="<f4") for s in (a, b))
        return x.shape == y.shape and float(np.abs(x - y).max()) <= tol
    return a == b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed fixtures (numbers within 1e-6)")
    a = ap.parse_args(argv)
    stale = []
    for rel, fx in all_fixtures().items():
        path = FIXTURES / rel
        if a.check:
            if not path.exists() or not _close(json.loads(path.read_text()), json.loads(json.dumps(fx)), 1e-6):
                stale.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fx, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"wrote {path}")
    if stale:
        print("FIXTURES STALE (regenerate with `python -m aside_training.node_fixtures`): " + ", ".join(stale))
        sys.exit(1)
    if a.check:
        print("fixtures ok")


if __name__ == "__main__":
    main()
