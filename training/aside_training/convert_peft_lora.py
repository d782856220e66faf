"""Convert a Hugging Face PEFT LoRA checkpoint into an Aside task directory.

    python -m aside_training.convert_peft_lora --peft path/to/adapter_dir --id my-task \
        --backbone all-MiniLM-L6-v2 --out ../models/tasks/my-task

`adapter_dir` holds `adapter_config.json` + `adapter_model.safetensors` (or `adapter_model.bin`)
of a LoRA on the backbone's BERT (plain `BertModel`, `sentence-transformers` or
`...ForSequenceClassification` naming all work: keys are matched on `layer.<i>.<module>`).
PEFT computes W x + (alpha/r) * B A x; Aside's graph computes W x + B' A x, so B' = (alpha/r) B
(alpha/sqrt(r) with use_rslora). Targets query+value give kind `lora`; any other linear gives
`lora-all` (targets the checkpoint does not have get zero tensors, which change nothing).
Only retrievers are produced (a PEFT classifier head has no place in a retriever task).
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import torch

from .backbone import LINEARS, load_backbone
from .kinds import tensor_specs
from .paths import catalog_entry
from .task import build_manifest, save_task

_MODULE_TO_SHORT = {v: k for k, v in LINEARS.items()}
_KEY = re.compile(r"layer\.(\d+)\.(" + "|".join(re.escape(v) for v in LINEARS.values()) +
                  r")\.lora_(A|B)(?:\.[A-Za-z0-9_]+)?\.weight$")


def read_peft(peft_dir: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    cfg = json.loads((peft_dir / "adapter_config.json").read_text())
    st = peft_dir / "adapter_model.safetensors"
    if st.exists():
        from safetensors.torch import load_file
        w = load_file(str(st))
    else:
        w = torch.load(peft_dir / "adapter_model.bin", map_location="cpu", weights_only=True)
    return cfg, w


def convert(peft_dir: Path, backbone_id: str) -> tuple[str, dict, dict[str, torch.Tensor]]:
    cfg, w = read_peft(peft_dir)
    if cfg.get("peft_type", "LORA").upper() != "LORA":
        raise ValueError(f"not a LoRA checkpoint: peft_type={cfg.get('peft_type')}")
    if cfg.get("bias", "none") != "none":
        raise ValueError("LoRA with trained biases (bias != 'none') is not supported by kind lora")
    if cfg.get("fan_in_fan_out"):
        raise ValueError("fan_in_fan_out=True (GPT-2 Conv1D layout) is not a BERT LoRA")
    if cfg.get("modules_to_save"):
        raise ValueError(f"modules_to_save={cfg['modules_to_save']} cannot be expressed as a LoRA module")
    r = int(cfg["r"])
    alpha = float(cfg.get("lora_alpha", r))
    scale = alpha / (r ** 0.5) if cfg.get("use_rslora") else alpha / r
    found: dict[str, torch.Tensor] = {}
    for k, t in w.items():
        mt = _KEY.search(k)
        if not mt:
            if "lora_" in k:
                raise ValueError(f"unrecognised LoRA tensor {k}")
            continue
        layer, module, ab = int(mt.group(1)), mt.group(2), mt.group(3)
        short = _MODULE_TO_SHORT[module]
        name = f"m.l{layer}.{short}.lora_{'a' if ab == 'A' else 'b'}"
        t = t.float()
        found[name] = t * scale if ab == "B" else t
    if not found:
        raise ValueError("no LoRA tensors found")
    shorts = {n.split(".")[2] for n in found}
    kind = "lora" if shorts <= {"q", "v"} else "lora-all"
    bb = load_backbone(backbone_id)
    specs = tensor_specs(kind, "retriever", bb.cfg, {"r": r})
    tensors = {}
    for n, sp in specs.items():
        if n in found:
            if tuple(found[n].shape) != tuple(sp.shape):
                raise ValueError(f"{n}: shape {tuple(found[n].shape)} != expected {sp.shape} for {backbone_id}")
            tensors[n] = found[n].contiguous()
        else:
            tensors[n] = torch.zeros(sp.shape)
    extra = set(found) - set(specs)
    if extra:
        raise ValueError(f"tensors beyond the backbone's layers: {sorted(extra)[:3]}")
    return kind, {"r": r}, tensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peft", type=Path, required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--version", default="1")
    ap.add_argument("--backbone", default="all-MiniLM-L6-v2")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--query-max-length", type=int, default=64)
    ap.add_argument("--document-max-length", type=int, default=None)
    a = ap.parse_args(argv)
    kind, hp, tensors = convert(a.peft, a.backbone)
    bb = load_backbone(a.backbone)
    entry = catalog_entry(a.backbone)
    cfg = json.loads((a.peft / "adapter_config.json").read_text())
    man = build_manifest(
        task_id=a.id, version=a.version, role="retriever", kind=kind, hp=hp, backbone_id=a.backbone,
        tensors=tensors, backbone_params=bb.num_params(),
        max_length={"query": a.query_max_length, "document": a.document_max_length or entry["maxLength"]},
        training={"data": "converted from a PEFT LoRA checkpoint", "source": str(a.peft),
                  "peft_config": {k: cfg.get(k) for k in ("r", "lora_alpha", "target_modules", "use_rslora", "base_model_name_or_path")},
                  "command": "python -m aside_training.convert_peft_lora " + " ".join(argv or [])},
        metrics={}, description=f"PEFT LoRA converted ({kind}, r={hp['r']})")
    save_task(a.out, man, tensors)
    print(f"wrote {a.out} (kind {kind}, r={hp['r']}, {man['budget']['trainable_params']} params)")


if __name__ == "__main__":
    main()
