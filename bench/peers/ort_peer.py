"""Python peer for the Aside benchmarks: tokenizers + onnxruntime on the same ONNX files.

Two modes:
  rpc   -- line-delimited JSON on stdin/stdout, so the TypeScript harness can interleave in-process
           measurements (encoding at a batch size, fp32 GEMM rate) with its own.
  serve -- a ThreadingHTTPServer on 127.0.0.1 with /search (encode + brute-force top-10 over the
           collection's documents, embedded at start) and /rerank (cross-encoder graph + module).
"""
import json
import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def load_tokenizer(path, max_len):
    tok = Tokenizer.from_file(path)
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok


def session(path, threads=0, opt="all", external=None):
    """external: {"path": name the graph's external-data references use, "file": the bytes' file}
    (a weight-free template bound to the backbone, as the server binds it)."""
    so = ort.SessionOptions()
    if external:
        data = open(external["file"], "rb").read()
        so.add_external_initializers_from_files_in_memory([external["path"]], [data], [len(data)])
    if threads:
        so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = {
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[opt]
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=np.float32).reshape(meta["shape"])
    return out


def feeds_for(sess, encs, extra=None):
    L = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), L), dtype=np.int64)
    mask = np.zeros((len(encs), L), dtype=np.int64)
    types = np.zeros((len(encs), L), dtype=np.int64)
    for i, e in enumerate(encs):
        n = len(e.ids)
        ids[i, :n] = e.ids
        mask[i, :n] = 1
        types[i, :n] = e.type_ids
    names = {i.name for i in sess.get_inputs()}
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in names:
        feeds["token_type_ids"] = types
    if extra:
        feeds.update(extra)
    return feeds, mask


def mean_pool(hidden, mask):
    m = mask[:, :, None].astype(np.float32)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


class Encoder:
    def __init__(self, model, tokenizer, max_len, threads=0, opt="all"):
        self.sess = session(model, threads, opt)
        self.tok = load_tokenizer(tokenizer, max_len)

    def embed(self, texts):
        encs = self.tok.encode_batch(texts)
        feeds, mask = feeds_for(self.sess, encs)
        hidden = self.sess.run(None, feeds)[0]
        return mean_pool(hidden, mask)


def rpc():
    encoders = {}
    for line in sys.stdin:
        msg = json.loads(line)
        op = msg["op"]
        try:
            if op == "load":
                encoders[msg["key"]] = Encoder(msg["model"], msg["tokenizer"], msg.get("maxLen", 256), msg.get("threads", 0), msg.get("opt", "all"))
                out = {"ok": True}
            elif op == "encode":
                enc = encoders[msg["key"]]
                texts = msg["texts"]
                times = []
                for _ in range(msg.get("reps", 1)):
                    t = time.perf_counter()
                    enc.embed(texts)
                    times.append((time.perf_counter() - t) * 1000)
                out = {"ok": True, "ms": times}
            elif op == "gemm":
                n = msg.get("n", 1024)
                a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
                b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
                a @ b
                rates = []
                for _ in range(msg.get("reps", 3)):
                    t = time.perf_counter()
                    a @ b
                    rates.append(2 * n ** 3 / (time.perf_counter() - t) / 1e9)
                out = {"ok": True, "gflops": rates}
            elif op == "optimize":
                so = ort.SessionOptions()
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                so.optimized_model_filepath = msg["out"]
                so.log_severity_level = 3  # the file is used on this machine only: no hardware warning
                ort.InferenceSession(msg["model"], so, providers=["CPUExecutionProvider"])
                out = {"ok": True}
            elif op == "quit":
                break
            else:
                out = {"ok": False, "error": f"unknown op {op}"}
        except Exception as e:  # report, keep serving
            out = {"ok": False, "error": repr(e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def serve(cfg):
    enc = Encoder(cfg["model"], cfg["tokenizer"], cfg.get("queryMaxLen", 256))
    doc_tok = load_tokenizer(cfg["tokenizer"], cfg.get("docMaxLen", 256))
    docs = cfg["docs"]
    ids = [d["id"] for d in docs]
    vecs = []
    for i in range(0, len(docs), 32):
        encs = doc_tok.encode_batch([d["text"] for d in docs[i:i + 32]])
        feeds, mask = feeds_for(enc.sess, encs)
        vecs.append(mean_pool(enc.sess.run(None, feeds)[0], mask))
    matrix = np.concatenate(vecs)
    rr = None
    if cfg.get("reranker"):
        r = cfg["reranker"]
        rr = (session(r["graph"], external=r.get("externalData")), read_safetensors(r["weights"]), load_tokenizer(cfg["tokenizer"], r.get("maxLen", 256)))

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Without this, headers and body leave as two segments and Nagle + delayed ACK add ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *a):
            pass

        def reply(self, obj, code=200):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.reply({"status": "ok"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            if self.path == "/search":
                q = enc.embed([body["query"]])[0]
                scores = matrix @ q
                k = int(body.get("k", 10))
                top = np.argpartition(-scores, k)[:k]
                top = top[np.argsort(-scores[top])]
                self.reply({"hits": [{"id": ids[i], "score": float(scores[i])} for i in top]})
            elif self.path == "/rerank" and rr:
                sess, weights, tok = rr
                encs = tok.encode_batch([(body["query"], d) for d in body["documents"]])
                feeds, _ = feeds_for(sess, encs, weights)
                scores = sess.run(None, feeds)[0].reshape(-1)
                order = np.argsort(-scores)
                self.reply([{"index": int(i), "relevance_score": float(scores[i])} for i in order])
            else:
                self.reply({"error": "not found"}, 404)

    server = ThreadingHTTPServer(("127.0.0.1", cfg.get("port", 0)), H)
    server.daemon_threads = True
    sys.stdout.write(json.dumps({"port": server.server_address[1]}) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "rpc":
        rpc()
    else:
        with open(sys.argv[2]) as f:
            serve(json.load(f))
