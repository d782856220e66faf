"""Regenerate docs/study.md and docs/img/study-*.png from training/results/results.jsonl.

    python -m aside_training.study

Takes the latest line per run id (the store is append-only). Per-step curves are read from
training/runs/<run>/log.jsonl when present (dev points are also in the store).
"""
from __future__ import annotations

import json
import statistics
from collections import defaultdict

from .paths import REPO, RESULTS, RUNS

DOC = REPO / "docs" / "study.md"
IMG = REPO / "docs" / "img"
ORDER = ["zero-shot", "full", "bitfit", "adapter", "lora", "lora-all", "prefix", "mam", "iaa-s", "iaa-l", "iaa-m"]
LABEL = {"zero-shot": "zero-shot backbone", "full": "full fine-tuning", "bitfit": "BitFit", "adapter": "Adapter (Houlsby)",
         "lora": "LoRA (q,v)", "lora-all": "LoRA (all linears)", "prefix": "Prefix-tuning", "mam": "MAM adapter",
         "iaa-s": "IAA-S", "iaa-l": "IAA-L", "iaa-m": "IAA-M"}


def load() -> list[dict]:
    latest = {}
    if RESULTS.exists():
        for line in RESULTS.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("profile") != "smoke":
                    latest[r["run"]] = r
    return list(latest.values())


def fmt(xs, nd=3):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{xs[0]:.{nd}f}"
    return f"{statistics.mean(xs):.{nd}f} ± {statistics.pstdev(xs):.{nd}f}"


def stab(curve):
    """Dev-curve steadiness: number of evaluations where dev nDCG@10 dropped vs the previous one."""
    vals = [v for _, v in curve]
    return sum(1 for a, b in zip(vals, vals[1:]) if b < a - 1e-9)


def steps_to_gain(curve, frac=0.95):
    """First logged step where dev reaches step0 + 95% of (final - step0); None if it never improved."""
    if len(curve) < 2 or curve[-1][1] <= curve[0][1]:
        return None
    target = curve[0][1] + frac * (curve[-1][1] - curve[0][1])
    return next(s for s, v in curve if v >= target - 1e-12)


# the re-ranking recipes tried after the study (issue 10), each judged on all test queries over BM25's top 100
RECIPES = {"lce": "cross-encoder, localised contrastive estimation: 1,500 steps, hybrid hard + random negatives",
           "distil": "cross-encoder, the lce module + 300 steps with title pseudo-queries distilled from the zero-shot teacher",
           "maxsim": "late interaction (MaxSim of token states); trained kinds: 600 steps of ColBERT's loss"}


def table(rows: list[dict], role: str, collection: str, budget: str, profile: str = "study") -> list[str]:
    groups = defaultdict(list)
    for r in rows:
        if r["role"] == role and r["collection"] == collection and (r["budget"] == budget or r["kind"] in ("zero-shot", "full")) \
                and (r["profile"] == profile or (r["kind"] == "zero-shot" and r["profile"] not in RECIPES)):
            groups[r["kind"]].append(r)
    if not groups:
        return []
    out = []
    if role == "retriever":
        out.append("| method | trainable params | % backbone | seeds | test nDCG@10 | test R@100 | dev nDCG@10 step 0 → final | steps to 95% of final dev | steps to 95% of dev gain | dev drops | train wall-clock s |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    else:
        out.append("| method | trainable params | % backbone | seeds | re-rank nDCG@10 | BM25 nDCG@10 (same queries) | dev nDCG@10 step 0 → final | steps to 95% of final dev | steps to 95% of dev gain | dev drops | train wall-clock s |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in ORDER + sorted(set(groups) - set(ORDER)):
        g = groups.get(k)
        if not g:
            continue
        g.sort(key=lambda r: r["seed"])
        p = g[0]["trainable_params"]
        pct = 100 * g[0]["fraction_of_backbone"]
        steps95 = [r["steps_to_95pct_dev"] for r in g]
        s95 = "–" if k == "zero-shot" else ", ".join(str(s) for s in steps95)
        sg = "–" if k == "zero-shot" else ", ".join(str(steps_to_gain(r["dev_curve"])) for r in g)
        dev = "–" if k == "zero-shot" else fmt([r["dev_curve"][0][1] for r in g]) + " → " + fmt([r["final_dev_ndcg@10"] for r in g])
        drops = "–" if k == "zero-shot" else ", ".join(str(stab(r["dev_curve"])) for r in g)
        hp = g[0].get("hp") or {}
        name = LABEL.get(k, k) + (" (" + ", ".join(f"{a}={b}" for a, b in hp.items()) + ")" if hp else "")
        tsec = fmt([r.get("train_sec") for r in g], 0) if k != "zero-shot" else "–"
        if role == "retriever":
            out.append(f"| {name} | {p:,} | {pct:.2f} | {len(g)} | {fmt([r['test']['ndcg@10'] for r in g])} | "
                       f"{fmt([r['test']['recall@100'] for r in g])} | {dev} | {s95} | {sg} | {drops} | {tsec} |")
        else:
            out.append(f"| {name} | {p:,} | {pct:.2f} | {len(g)} | {fmt([r['test']['ndcg@10'] for r in g])} | "
                       f"{fmt([r['test']['bm25_ndcg@10'] for r in g])} | {dev} | {s95} | {sg} | {drops} | {tsec} |")
    return out


def recipes_table(rows: list[dict]) -> list[str]:
    sel = [r for r in rows if r["profile"] in RECIPES and "bm25_ndcg@10" in r["test"]]
    if not sel:
        return []
    out = ["| collection | recipe | method | trainable params | % backbone | steps | test nDCG@10 | BM25 candidates | Δ | p (paired, vs candidates) | queries | train s | test s |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(sel, key=lambda r: (r["collection"], list(RECIPES).index(r["profile"]), ORDER.index(r["kind"]) if r["kind"] in ORDER else 99)):
        t = r["test"]
        p = t.get("p_vs_candidates")
        out.append(f"| {r['collection']} | {r['profile']} | {LABEL.get(r['kind'], r['kind'])} | {r['trainable_params']:,} | {100 * r['fraction_of_backbone']:.2f} | {r['steps']} | "
                   f"{t['ndcg@10']:.4f} | {t['bm25_ndcg@10']:.4f} | {t['ndcg@10'] - t['bm25_ndcg@10']:+.4f} | "
                   f"{'–' if p is None else '< 0.001' if p < 0.001 else f'{p:.3f}'} | {t['queries']} | {r.get('train_sec', 0):.0f} | {r.get('eval_sec', 0):.0f} |")
    return out + ["", "Recipes: " + "; ".join(f"*{k}* = {v}" for k, v in RECIPES.items()) + ".", ""]


def plots(rows: list[dict]) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMG.mkdir(parents=True, exist_ok=True)
    made = []
    keyset = sorted({(r["collection"], r["role"], r["budget"], r["profile"]) for r in rows if r["kind"] != "zero-shot"})
    for col, role, budget, profile in keyset:
        sel = [r for r in rows if r["collection"] == col and r["role"] == role and r["kind"] != "zero-shot"
               and (r["budget"] == budget or r["kind"] == "full") and r["profile"] == profile]
        if budget != "0.5":
            sel = [r for r in sel if r["kind"] != "full"]
        if not sel:
            continue
        fig, ax = plt.subplots(1, 2, figsize=(12, 4.2))
        for r in sorted(sel, key=lambda r: (ORDER.index(r["kind"]) if r["kind"] in ORDER else 99, r["seed"])):
            lab = f"{r['kind']} s{r['seed']}"
            # one colour per kind, one line style per seed: 12+ curves stay distinguishable
            # (zero-shot, ORDER[0], is never plotted, so IAA-M, ORDER[10], may reuse colour 0)
            style = dict(color=plt.get_cmap("tab10")(ORDER.index(r["kind"]) % 10 if r["kind"] in ORDER else 7),
                         ls="-" if r["seed"] == 1 else "--")
            log = RUNS / r["run"] / "log.jsonl"
            if log.exists():
                recs = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
                ls = [(x["step"], x["loss"]) for x in recs if "loss" in x]
                if ls:
                    # running mean over 10 steps for readability
                    sm = [sum(v for _, v in ls[max(0, i - 9): i + 1]) / len(ls[max(0, i - 9): i + 1]) for i in range(len(ls))]
                    ax[0].plot([s for s, _ in ls], sm, lw=1, label=lab, **style)
            c = r["dev_curve"]
            ax[1].plot([s for s, _ in c], [v for _, v in c], marker="o", ms=3, lw=1, label=lab, **style)
        ax[0].set_title("train loss (10-step running mean)"); ax[0].set_xlabel("step")
        ax[1].set_title("dev nDCG@10"); ax[1].set_xlabel("step")
        ax[1].legend(fontsize=7, ncol=2)
        fig.suptitle(f"{col} {role}, budget ≈{budget}%, {sel[0]['steps']} steps" + ("" if profile == "study" else f", profile {profile}"))
        fig.tight_layout()
        name = f"study-{col}-{role}-b{budget}" + ("" if profile == "study" else f"-{profile}") + ".png"
        fig.savefig(IMG / name, dpi=80)
        plt.close(fig)
        made.append(name)
    return made


def main(argv=None):
    rows = load()
    imgs = plots(rows)
    lines = [
        "# Study: PET and IAA modules on a frozen MiniLM-L6 backbone",
        "",
        "Generated by `cd training && .venv/bin/python -m aside_training.study` from",
        "`training/results/results.jsonl` (append-only; the latest line per run id is used). Runs come from",
        "`training/study.sh`; setup, module equations and budgets are in [training.md](training.md).",
        "",
    ]
    sec_path = REPO / "training" / "study_notes.md"
    for col in sorted({r["collection"] for r in rows}, key=lambda c: (c != "scifact", c)):  # the core task first
        split = next((r["split"] for r in rows if r["collection"] == col), "")
        for role in ("retriever", "reranker"):
            for budget, profile in (("0.5", "study"), ("5", "study"), ("0.5", "long")):
                trained = [r for r in rows if r["budget"] == budget and r["profile"] == profile and r["role"] == role
                           and r["collection"] == col and r["kind"] != "zero-shot"]
                if not trained:
                    continue
                t = table(rows, role, col, budget, profile)
                ev = next(r["eval"] for r in trained)
                if role == "retriever":
                    what = (f"dense retrieval over the full corpus, test split, queries {ev['eval_qlen']} / documents "
                            f"{ev['eval_dlen']} tokens")
                else:
                    what = (f"re-ranking BM25 top-{ev['rr_depth']} for the first {ev['rr_test_queries']} test queries "
                            f"(pairs {ev['plen']} tokens); documents below rank {ev['rr_depth']} keep BM25 order")
                lines += [f"## {col}: {role}, budget ≈{budget}%, {trained[0]['steps']} training steps", "", f"{what}. Split: {split}.", ""] + t + [""]
    lines += ["Columns: *steps to 95%* = first logged step whose dev nDCG@10 reaches 95% of the run's final dev value",
              "(step 0 = the untrained module, i.e. the backbone; because the backbone already starts at ~90% of the final",
              "dev value this literal measure is coarse, so *steps to 95% of dev gain* = first step reaching",
              "dev₀ + 0.95·(dev_final − dev₀) is also given; None = no gain);",
              "*dev drops* = number of dev evaluations lower than the previous one (steadiness); several seeds are",
              "shown as mean ± population std and as comma-separated lists.", ""]
    recipes = recipes_table(rows)
    if recipes:
        lines += ["## Re-ranking recipes after the study (SciFact, all test queries, BM25 top 100)", ""] + recipes
    for img in imgs:
        lines += [f"![{img}](img/{img})", ""]
    if sec_path.exists():
        lines += [sec_path.read_text()]
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {DOC} ({len(rows)} runs, {len(imgs)} plots)")


if __name__ == "__main__":
    main()
