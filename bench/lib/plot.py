"""Renders the bench's plots: python plot.py spec.json  ({dir, plots: [{file, title, xlabel, ylabel, logx, series}]})."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

spec = json.load(open(sys.argv[1]))
for p in spec["plots"]:
    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=110)
    for s in p["series"]:
        ax.plot(s["x"], s["y"], marker="o", label=s["label"])
    if p.get("logx"):
        ax.set_xscale("log", base=2)
        xs = sorted({x for s in p["series"] for x in s["x"]})
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
    ax.set_title(p["title"])
    ax.set_xlabel(p["xlabel"])
    ax.set_ylabel(p["ylabel"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(spec["dir"], p["file"]))
    plt.close(fig)
