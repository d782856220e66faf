"""Weight-free graph templates: an exported graph whose frozen backbone weights are ONNX
external-data references (location, offset, length) into the backbone's own `model.onnx`.

The exporter traces the training forward pass, so every frozen initializer it writes is a backbone
tensor, byte for byte (MatMul weights come out pre-transposed, exactly as the catalog file stores
them). A template keeps the graph and the few small constants that are not backbone tensors; the
server binds it to the verified backbone bytes at load (onnxruntime `externalData`), so a ~90 MB
graph becomes a file of tens of KB that can be committed.
"""
from __future__ import annotations

import hashlib
import mmap
from pathlib import Path

import onnx
from onnx import numpy_helper

EXTERNAL_LOCATION = "model.onnx"  # the path the server names the backbone bytes by when binding
# Protobuf field numbers (onnx.proto): ModelProto.graph, GraphProto.initializer,
# TensorProto.float_data (packed) / raw_data.
_MODEL_GRAPH, _GRAPH_INITIALIZER, _TENSOR_FLOAT_DATA, _TENSOR_RAW_DATA = 7, 5, 4, 9
# A template whose inline initializers exceed this carries weights it should not: fail instead.
MAX_INLINE_BYTES = 64 * 1024


def _varint(b, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def _length_delimited(b, start: int, end: int):
    """Yields (field number, payload start, payload end) of the length-delimited fields in b[start:end]."""
    i = start
    while i < end:
        key, i = _varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(b, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = _varint(b, i)
            yield field, i, i + n
            i += n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} at byte {i}")


def tensor_locations(model_path: Path) -> dict[bytes, tuple[int, int]]:
    """sha256 of each initializer's data bytes in `model_path` -> (file offset, length) of those bytes.

    Walks the protobuf wire format instead of parsing the model, because the offsets of the bytes in
    the file are what an external-data reference needs."""
    out: dict[bytes, tuple[int, int]] = {}
    with open(model_path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as b:
        for f, s, e in _length_delimited(b, 0, len(b)):
            if f != _MODEL_GRAPH:
                continue
            for g, s2, e2 in _length_delimited(b, s, e):
                if g != _GRAPH_INITIALIZER:
                    continue
                for t, s3, e3 in _length_delimited(b, s2, e2):
                    if t in (_TENSOR_RAW_DATA, _TENSOR_FLOAT_DATA) and e3 > s3:
                        out.setdefault(hashlib.sha256(b[s3:e3]).digest(), (s3, e3 - s3))
    return out


def to_template(model: onnx.ModelProto, locations: dict[bytes, tuple[int, int]]) -> tuple[int, int]:
    """Rewrites, in place, every initializer byte-equal to a backbone tensor as an external-data
    reference. Returns (initializers referenced, bytes left inline)."""
    referenced = inline = 0
    for t in model.graph.initializer:
        data = numpy_helper.to_array(t).tobytes()  # little-endian, as raw_data stores it
        hit = locations.get(hashlib.sha256(data).digest())
        if hit is None or hit[1] != len(data):
            inline += len(data)
            continue
        for field in ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
            t.ClearField(field)
        t.data_location = onnx.TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in (("location", EXTERNAL_LOCATION), ("offset", str(hit[0])), ("length", str(hit[1]))):
            entry = t.external_data.add()
            entry.key, entry.value = k, v
        referenced += 1
    if inline > MAX_INLINE_BYTES:
        raise RuntimeError(f"{inline} bytes of initializers are not backbone tensors (limit {MAX_INLINE_BYTES}): "
                           "the trace folded frozen weights into new values; a template would not be weight-free")
    return referenced, inline


def bound_session(template: bytes, backbone_file: Path, threads: int = 0):
    """An onnxruntime-python session of a template bound to the backbone file's bytes in memory, the
    way the server binds it (onnxruntime resolves a file reference's symlinks and refuses any that
    leave the template's directory, so the in-memory route is also the only one without a copy).
    `threads`: intra-op threads, 0 = onnxruntime's default (one per core)."""
    import onnxruntime as ort

    data = backbone_file.read_bytes()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.add_external_initializers_from_files_in_memory([EXTERNAL_LOCATION], [data], [len(data)])
    return ort.InferenceSession(template, sess_options=so, providers=["CPUExecutionProvider"])
