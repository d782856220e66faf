"""Copy a finished run's task directory into models/tasks/<id> (the shipped default tasks).

    python -m aside_training.ship --run runs/scifact-retriever-iaa-l-b0.5-s1-study --id scifact-iaa-l-retriever
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from .paths import TASKS
from .task import load_task, save_task


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--version", default="1")
    ap.add_argument("--description")
    a = ap.parse_args(argv)
    t = load_task(a.run / "task")
    m = dict(t.manifest)
    m["id"], m["version"] = a.id, a.version
    if a.description:
        m["description"] = a.description
    out = TASKS / a.id
    if out.exists():
        shutil.rmtree(out)
    save_task(out, m, t.tensors)
    print(f"shipped {out} ({(out / 'module.safetensors').stat().st_size} bytes)")
    print(json.dumps(m["metrics"]))


if __name__ == "__main__":
    main()
