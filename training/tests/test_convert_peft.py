"""A PEFT-layout LoRA checkpoint built here (the Hub is unreachable) converts into a task whose
outputs equal the backbone with the LoRA delta merged into its weights."""
import json

import torch
from safetensors.torch import save_file

from aside_training.backbone import load_backbone
from aside_training.convert_peft_lora import main as convert_main
from aside_training.encoder import encode
from aside_training.task import load_task
from aside_training.text import encode_texts

B = "all-MiniLM-L6-v2"


def _peft_dir(tmp_path, targets, r=4, alpha=8):
    g = torch.Generator().manual_seed(0)
    w = {}
    names = {"query": "attention.self.query", "value": "attention.self.value", "dense": "intermediate.dense"}
    for i in range(6):
        for t in targets:
            mod = names[t]
            din, dout = (384, 1536) if t == "dense" else (384, 384)
            pre = f"base_model.model.encoder.layer.{i}.{mod}"
            w[f"{pre}.lora_A.weight"] = torch.randn(r, din, generator=g) * 0.05
            w[f"{pre}.lora_B.weight"] = torch.randn(dout, r, generator=g) * 0.05
    d = tmp_path / "peft"
    d.mkdir()
    save_file(w, str(d / "adapter_model.safetensors"))
    (d / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": r, "lora_alpha": alpha, "target_modules": targets, "bias": "none",
        "fan_in_fan_out": False, "base_model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2"}))
    return d, w, alpha / r


def _merged_reference(w, scale, batch):
    bb = load_backbone(B)
    with torch.no_grad():
        for k in [k for k in w if k.endswith("lora_A.weight")]:
            base = k[len("base_model.model."): -len(".lora_A.weight")]
            W = bb.get(base + ".weight")
            W += scale * w[k.replace("lora_A", "lora_B")] @ w[k]
        return encode(bb, {}, **batch)


def test_convert_qv(tmp_path):
    d, w, scale = _peft_dir(tmp_path, ["query", "value"])
    out = tmp_path / "task"
    convert_main(["--peft", str(d), "--id", "peft-test", "--out", str(out)])
    t = load_task(out)
    assert t.manifest["kind"] == "lora" and t.manifest["budget"]["r"] == 4
    batch = encode_texts(B, ["a test sentence about proteins", "another one"], 32)
    with torch.no_grad():
        got = encode(load_backbone(B), t.tensors, **batch)
    ref = _merged_reference(w, scale, batch)
    assert (got - ref).abs().max() < 1e-4


def test_convert_other_targets_is_lora_all(tmp_path):
    d, w, scale = _peft_dir(tmp_path, ["query", "dense"])
    out = tmp_path / "task"
    convert_main(["--peft", str(d), "--id", "peft-test2", "--out", str(out)])
    t = load_task(out)
    assert t.manifest["kind"] == "lora-all"
    batch = encode_texts(B, ["a test sentence about proteins"], 32)
    with torch.no_grad():
        got = encode(load_backbone(B), t.tensors, **batch)
    assert (got - _merged_reference(w, scale, batch)).abs().max() < 1e-4
