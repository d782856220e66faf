import numpy as np
import onnxruntime as ort
import torch

from aside_training.backbone import load_backbone
from aside_training.encoder import encode
from aside_training.paths import backbone_dir
from aside_training.text import encode_texts

BACKBONE = "all-MiniLM-L6-v2"
TEXTS = [
    "0-dimensional biomaterials lack inductive properties.",
    "A line scan diffusion-weighted magnetic resonance imaging sequence with diffusion tensor analysis was applied.",
    "short",
    "Aside serves per-task lightweight modules on a frozen backbone, " * 6,
]


def test_pytorch_matches_onnxruntime():
    bb = load_backbone(BACKBONE)
    batch = encode_texts(BACKBONE, TEXTS, 128)
    with torch.no_grad():
        ours = encode(bb, {}, **batch).numpy()
    sess = ort.InferenceSession(str(backbone_dir(BACKBONE) / "model.onnx"), providers=["CPUExecutionProvider"])
    ref = sess.run(["last_hidden_state"], {k: v.numpy() for k, v in batch.items()})[0]
    mask = batch["attention_mask"].numpy().astype(bool)
    diff = np.abs(ours - ref)[mask].max()
    assert diff <= 1e-4, diff
