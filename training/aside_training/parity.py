"""PyTorch vs onnxruntime-python on exported graphs, with module tensors fed as inputs.

    python -m aside_training.parity                      # every kind x role, random modules at two budgets + identity
    python -m aside_training.parity --task ../models/tasks/<id>   # one trained task
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .backbone import load_backbone
from .encoder import encode, rerank_scores
from .export_graph import export, signature_of_graph
from .kinds import KINDS, PRESETS, ROLES, identity_module, init_module
from .paths import backbone_dir, graph_path
from .text import encode_pairs, encode_texts

TOL = 1e-4
TEXTS = ["0-dimensional biomaterials lack inductive properties.",
         "1 in 5 million in UK have abnormal PrP positivity.",
         "A line scan diffusion-weighted magnetic resonance imaging sequence was applied to measure the apparent diffusion coefficient.",
         "short"]
PAIRS = [(TEXTS[0], TEXTS[2]), (TEXTS[1], TEXTS[3]), (TEXTS[3], TEXTS[1])]


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_both(bb, sess, role, module):
    if role == "retriever":
        batch = encode_texts(bb.backbone_id, TEXTS, 64)
        with torch.no_grad():
            ours = encode(bb, module, **batch).numpy()
        out = "last_hidden_state"
    else:
        batch = encode_pairs(bb.backbone_id, PAIRS, 64)
        with torch.no_grad():
            ours = rerank_scores(bb, module, **batch).numpy()
        out = "scores"
    feeds = {k: v.numpy() for k, v in batch.items()}
    feeds.update({k: v.detach().numpy().astype(np.float32) for k, v in module.items()})
    ref = sess.run([out], feeds)[0]
    if role == "retriever":
        mask = batch["attention_mask"].numpy().astype(bool)
        return float(np.abs(ours - ref)[mask].max())
    return float(np.abs(ours - ref).max())


def _perturb(module: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in module.items()}


def check_kind(backbone_id: str, kind: str, role: str, reexport: bool = False) -> list[str]:
    bb = load_backbone(backbone_id)
    gp = graph_path(backbone_id, kind, role)
    if reexport or not gp.exists():
        export(backbone_id, kind, role)
    sess = session(gp)
    fails = []
    budgets = [PRESETS["smoke"][kind], PRESETS["0.5"][kind]]
    for j, hp in enumerate(budgets):
        mod = _perturb(init_module(kind, role, bb, hp, seed=j), seed=j)
        d = run_both(bb, sess, role, mod)
        print(f"  {kind:9s} {role:9s} budget={hp} max|torch-ort|={d:.2e}")
        if d > TOL:
            fails.append(f"{kind}/{role} {hp}: {d}")
    # identity module reproduces the bare backbone (retriever: vs the catalog ONNX itself)
    if role == "retriever":
        ident = identity_module(kind, role, bb.cfg)
        batch = encode_texts(backbone_id, TEXTS, 64)
        feeds = {k: v.numpy() for k, v in batch.items()}
        bare = session(backbone_dir(backbone_id) / "model.onnx").run(["last_hidden_state"], feeds)[0]
        feeds.update({k: v.numpy() for k, v in ident.items()})
        got = sess.run(["last_hidden_state"], feeds)[0]
        mask = batch["attention_mask"].numpy().astype(bool)
        d = float(np.abs(bare - got)[mask].max())
        print(f"  {kind:9s} identity module vs bare backbone: {d:.2e}")
        if d > TOL:
            fails.append(f"{kind} identity: {d}")
    return fails


def check_task(task_dir: Path) -> list[str]:
    from .task import load_task

    t = load_task(task_dir)
    bb = load_backbone(t.manifest["backbone"]["id"])
    gp = graph_path(bb.backbone_id, t.manifest["kind"], t.manifest["role"])
    if not gp.exists():
        export(bb.backbone_id, t.manifest["kind"], t.manifest["role"])
    import onnx

    sig = signature_of_graph(onnx.load(str(gp), load_external_data=False))
    if sig != t.manifest["graph"]["signature"]:
        return [f"{task_dir}: graph signature {sig} != manifest {t.manifest['graph']['signature']}"]
    d = run_both(bb, session(gp), t.manifest["role"], t.tensors)
    print(f"  task {t.manifest['id']}: max|torch-ort|={d:.2e}")
    return [f"{task_dir}: {d}"] if d > TOL else []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", default="all-MiniLM-L6-v2")
    ap.add_argument("--kind", default="all")
    ap.add_argument("--role", default="all")
    ap.add_argument("--task", type=Path, action="append", default=[])
    ap.add_argument("--reexport", action="store_true")
    a = ap.parse_args(argv)
    fails = []
    if a.task:
        for t in a.task:
            fails += check_task(t)
    else:
        for k in (KINDS if a.kind == "all" else [a.kind]):
            for r in (ROLES if a.role == "all" else [a.role]):
                fails += check_kind(a.backbone, k, r, a.reexport)
    if fails:
        print("PARITY FAILED:\n  " + "\n  ".join(fails))
        sys.exit(1)
    print("parity ok")


if __name__ == "__main__":
    main()
