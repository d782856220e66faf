"""The MaxSim scoring kernel of late-interaction re-ranking, and its reference fixture.

    training/.venv/bin/python -m aside_training.maxsim_kernel

writes `models/kernels/maxsim-int8.onnx` (a weight-free graph the server runs with onnxruntime-node)
and `test/fixtures/maxsim-reference.json` (scores computed here with numpy, which the TypeScript
tests match without Python). Both are committed; re-run only when the kernel's contract changes.

Contract (N documents padded to Ld tokens, one query of Lq tokens, D dims):
  query      float32 [Lq, D]   unit-length token states
  query_mask float32 [Lq]      1 = the token counts
  docs       int8    [N, Ld, D] unit-length token states quantised per vector: v ≈ docs * scale
  scales     float32 [N, Ld]
  doc_mask   float32 [N, Ld]   1 = a real token (padding and excluded special tokens are 0)
  scores     float32 [N]       sum over counted query tokens of the best cosine against the document
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

REPO = Path(__file__).resolve().parents[2]
KERNEL = REPO / "models" / "kernels" / "maxsim-int8.onnx"
FIXTURE = REPO / "test" / "fixtures" / "maxsim-reference.json"
IR_VERSION = 8  # onnxruntime-node reads IR <= 10; the graph needs nothing newer
OPSET = 17
MASKED = -1.0e4  # far below any cosine: padding never wins the max


def build_kernel() -> onnx.ModelProto:
    f, i8 = TensorProto.FLOAT, TensorProto.INT8
    inputs = [
        helper.make_tensor_value_info("query", f, ["lq", "d"]),
        helper.make_tensor_value_info("query_mask", f, ["lq"]),
        helper.make_tensor_value_info("docs", i8, ["n", "ld", "d"]),
        helper.make_tensor_value_info("scales", f, ["n", "ld"]),
        helper.make_tensor_value_info("doc_mask", f, ["n", "ld"]),
    ]
    outputs = [helper.make_tensor_value_info("scores", f, ["n"])]
    const = lambda name, vals, dt=f: helper.make_tensor(name, dt, [len(vals)], vals)
    nodes = [
        helper.make_node("Cast", ["docs"], ["docs_f"], to=f),
        helper.make_node("Transpose", ["query"], ["query_t"], perm=[1, 0]),
        helper.make_node("MatMul", ["docs_f", "query_t"], ["dots"]),  # [n, ld, lq], int8 units
        helper.make_node("Unsqueeze", ["scales", "axis2"], ["scales_3"]),
        helper.make_node("Mul", ["dots", "scales_3"], ["cos"]),
        helper.make_node("Sub", ["doc_mask", "one"], ["not_real"]),  # 0 real, -1 padding
        helper.make_node("Mul", ["not_real", "big"], ["bias"]),
        helper.make_node("Unsqueeze", ["bias", "axis2"], ["bias_3"]),
        helper.make_node("Add", ["cos", "bias_3"], ["cos_masked"]),
        helper.make_node("ReduceMax", ["cos_masked"], ["best"], axes=[1], keepdims=0),  # [n, lq]
        helper.make_node("Mul", ["best", "query_mask"], ["best_counted"]),
        helper.make_node("ReduceSum", ["best_counted", "axis1"], ["scores"], keepdims=0),
    ]
    inits = [const("one", [1.0]), const("big", [-MASKED]), const("axis1", [1], TensorProto.INT64), const("axis2", [2], TensorProto.INT64)]
    graph = helper.make_graph(nodes, "aside_maxsim_int8", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="aside_training.maxsim_kernel")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def quantize(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-vector symmetric int8: scale = max|v| / 127, q = round(v / scale) (ties away from zero)."""
    scale = np.maximum(np.abs(v).max(axis=-1), 1e-12) / 127.0
    x = v / scale[..., None]
    q = np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def maxsim(q: np.ndarray, qmask: np.ndarray, doc: np.ndarray, dmask: np.ndarray) -> float:
    sims = q.astype(np.float64) @ doc.astype(np.float64).T  # [lq, ld]
    sims[:, dmask == 0] = -np.inf
    return float((sims.max(axis=1) * qmask).sum())


def fixture() -> dict:
    rng = np.random.default_rng(7)
    d, lq = 32, 7
    q = unit(rng.standard_normal((lq, d)))
    qmask = np.ones(lq, np.float32)
    qmask[0] = qmask[-1] = 0  # [CLS] and [SEP] excluded, as SpecialTokens "exclude"
    docs, out_float, out_int8 = [], [], []
    for n in (5, 9, 1, 12):
        doc = unit(rng.standard_normal((n, d)))
        dmask = np.ones(n, np.float32)
        if n > 2:
            dmask[0] = dmask[-1] = 0  # special tokens excluded
        qd, sc = quantize(doc)
        deq = qd.astype(np.float32) * sc[:, None]
        docs.append({"states": doc.ravel().tolist(), "tokens": n, "mask": dmask.tolist(), "int8": qd.ravel().tolist(), "scales": sc.tolist()})
        out_float.append(maxsim(q, qmask, doc, dmask))
        out_int8.append(maxsim(q, qmask, deq, dmask))
    return {"dims": d, "query": q.ravel().tolist(), "query_tokens": lq, "query_mask": qmask.tolist(), "docs": docs,
            "scores_float": out_float, "scores_int8": out_int8,
            "note": "written by training/aside_training/maxsim_kernel.py; scores in float64 numpy"}


def main() -> None:
    model = build_kernel()
    KERNEL.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(KERNEL))
    fx = fixture()
    # The kernel must reproduce the reference here too, before TypeScript ever sees it.
    import onnxruntime as ort
    s = ort.InferenceSession(str(KERNEL), providers=["CPUExecutionProvider"])
    ld = max(x["tokens"] for x in fx["docs"])
    n, dd = len(fx["docs"]), fx["dims"]
    docs = np.zeros((n, ld, dd), np.int8)
    scales = np.zeros((n, ld), np.float32)
    mask = np.zeros((n, ld), np.float32)
    for i, x in enumerate(fx["docs"]):
        t = x["tokens"]
        docs[i, :t] = np.array(x["int8"], np.int8).reshape(t, dd)
        scales[i, :t] = x["scales"]
        mask[i, :t] = x["mask"]
    got = s.run(None, {"query": np.array(fx["query"], np.float32).reshape(-1, dd), "query_mask": np.array(fx["query_mask"], np.float32),
                       "docs": docs, "scales": scales, "doc_mask": mask})[0]
    assert np.allclose(got, fx["scores_int8"], atol=1e-5), (got, fx["scores_int8"])
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(fx) + "\n")
    print(f"wrote {KERNEL} ({KERNEL.stat().st_size} bytes) and {FIXTURE}; kernel matches the reference: {got.tolist()}")


if __name__ == "__main__":
    main()
