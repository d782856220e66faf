"""Reference embeddings for the Node parity test: Python onnxruntime + the `tokenizers` package.

Reads {"model": path, "tokenizer": path, "pooling": "mean"|"cls", "max_length": n, "texts": [...]}
on stdin and prints {"embeddings": [[...], ...]} on stdout. Deliberately independent of Aside's code:
the tokenizer.json's own truncation/padding is replaced by explicit max-length truncation, and
pooling is done here with numpy.
"""
import json
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

req = json.load(sys.stdin)
tok = Tokenizer.from_file(req["tokenizer"])
tok.no_padding()
tok.enable_truncation(max_length=req["max_length"])
sess = ort.InferenceSession(req["model"], providers=["CPUExecutionProvider"])
names = {i.name for i in sess.get_inputs()}
out = []
for text in req["texts"]:
    enc = tok.encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    if "token_type_ids" in names:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = sess.run(None, feeds)[0][0]
    v = hidden[0] if req["pooling"] == "cls" else hidden.mean(axis=0)
    v = v / max(np.linalg.norm(v), 1e-12)
    out.append(v.astype(float).tolist())
json.dump({"embeddings": out}, sys.stdout)
