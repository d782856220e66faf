"""Train one task module (retriever or re-ranker) on a BEIR collection; resumable.

    python -m aside_training.train --collection scifact --role retriever --kind iaa-l --budget 0.5 --seed 1 --profile study
    python -m aside_training.train --collection scifact --role retriever --kind zero-shot --profile study   # bare backbone

Writes training/runs/<run-id>/ (ckpt.pt, log.jsonl, curve.png, task/ = a ready task directory)
and appends one line per finished run to training/results/results.jsonl (append-only, committed).
Re-running the same command resumes from the last checkpoint; a finished run is skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sys
import time

import torch
import torch.nn.functional as F

from .backbone import load_backbone
from .data import bm25_candidates, hybrid_candidates, load_collection
from .distil import build_teacher, kl_to_teacher, teacher_group
from .encoder import encode, pool, rerank_scores
from .evaluate import late_rerank, rerank, retrieval
from .kinds import KINDS, PRESETS, init_module
from .late import content_mask, maxsim_matrix
from .paths import RESULTS, RUNS, catalog_entry
from .task import build_manifest, save_task
from .text import contract_for, encode_pairs, encode_texts

PROFILES = {
    # seconds on 2 cores: CI
    "smoke": dict(steps=4, batch=2, negs=1, rr_negs=1, qlen=16, dlen=32, plen=48, eval_every=2, ckpt_every=2,
                  dev_queries=4, dev_depth=5, test_queries=6, test_corpus="pool", eval_qlen=16, eval_dlen=32,
                  rr_depth=5, rr_test_queries=4, hard_pool=20),
    # the study: short runs sized for 2 shared CPU cores
    "study": dict(steps=150, batch=8, negs=1, rr_negs=3, qlen=32, dlen=128, plen=192, eval_every=25, ckpt_every=25,
                  dev_queries=30, dev_depth=10, test_queries=None, test_corpus="full", eval_qlen=64, eval_dlen=128,
                  rr_depth=20, rr_test_queries=100, hard_pool=30),
}
# the same study run trained 4x longer: does PET close the gap to full fine-tuning with more steps?
PROFILES["long"] = dict(PROFILES["study"], steps=600, ckpt_every=50)
# The re-ranker recipe the study did not try (issue: a cross-encoder that works): 10x the steps, groups of
# 1 positive + 4 hard negatives from the first stage the server re-ranks (hybrid: BM25 + dense by RRF) +
# 3 random negatives (localised contrastive estimation), judged on ALL test queries over BM25's top 100.
# batch 4 = 2 queries x 8 documents a step: the study's pairs per step, so 10x the steps is ~10x its time.
PROFILES["lce"] = dict(PROFILES["study"], steps=1500, batch=4, ckpt_every=50, eval_every=250, rr_negs=7, random_negs=3,
                       negatives="hybrid", rr_depth=100, rr_test_queries=None)
# Stage two of the lce recipe: continue its module for 300 steps where each step pairs one judged query's
# lce group with one title pseudo-query's group scored by the zero-shot hybrid + late-interaction teacher
# (aside_training.distil): listwise KL to the teacher's softmax at temperature 5, weight 1. 16 pairs a step,
# as lce. The comparison is against the lce run it continues, on all test queries.
PROFILES["distil"] = dict(PROFILES["lce"], steps=300, batch=2, eval_every=100, init_from="lce", distil_groups=1,
                          distil_top=4, distil_depth=30, distil_temperature=5.0, distil_weight=1.0)
# Late interaction trained for itself: a retriever module (IAA-L first) whose loss is ColBERT's, cross-entropy
# over raw MaxSim sums (each query against the batch's positives and hybrid hard negatives), judged as the
# server uses it: MaxSim re-ranking of BM25's top 100 on all test queries (dev: 30 queries, top 20).
# zero-shot under this profile is the bare backbone through the same evaluation, the paired baseline.
PROFILES["maxsim"] = dict(PROFILES["study"], steps=600, ckpt_every=50, eval_every=100, scoring="maxsim",
                          negatives="hybrid", dev_depth=20, rr_depth=100, late_qlen=64, late_dlen=256)
LR = {"bitfit": 3e-3, "adapter": 1e-3, "lora": 1e-3, "lora-all": 1e-3, "prefix": 3e-3, "mam": 1e-3,
      "iaa-s": 1e-3, "iaa-l": 1e-3, "iaa-m": 1e-3, "full": 3e-5}
SCALE = 20.0  # cosine-similarity logit scale (as all-MiniLM-L6-v2's own training)


def run_id(a) -> str:
    return f"{a.collection}-{a.role}-{a.kind}-b{a.budget}-s{a.seed}-{a.profile}"


def append_result(rec: dict):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as f:
        f.write(json.dumps(rec) + "\n")


def steps_to_95(curve: list[tuple[int, float]]) -> int | None:
    if not curve:
        return None
    final = curve[-1][1]
    for s, v in curve:
        if v >= 0.95 * final:
            return s
    return None


class Run:
    def __init__(self, a):
        self.a = a
        self.p = dict(PROFILES[a.profile])
        if a.steps:
            self.p["steps"] = a.steps
        self.dir = RUNS / run_id(a)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.col = load_collection(a.collection)
        self.cands = bm25_candidates(self.col, 100)
        self.bb = load_backbone(a.backbone)
        # where hard negatives come from: BM25 (the study) or the hybrid first stage (the lce recipe)
        self.neg_cands = hybrid_candidates(self.col, self.bb, self.cands) if self.p.get("negatives") == "hybrid" else self.cands
        self.contract = contract_for(catalog_entry(a.backbone))
        self.hp = dict(PRESETS["smoke" if a.profile == "smoke" and a.budget == "0.5" else a.budget].get(a.kind, {})) if a.kind != "zero-shot" else {}
        self.train_q = sorted(self.col.qrels["train"])
        self.doc_ids = list(self.col.corpus)
        dev = sorted(self.col.qrels["dev"])
        random.Random(7).shuffle(dev)
        self.dev_q = dev[: self.p["dev_queries"]]
        # dev retrieval pool: BM25 top-k of the dev queries plus their positives (shared pool)
        pool = set()
        for q in self.dev_q:
            pool.update(self.cands[q][: self.p["dev_depth"]])
            pool.update(self.col.qrels["dev"][q])
        self.dev_pool = sorted(pool)
        n_pseudo = self.p["steps"] * self.p.get("distil_groups", 0)
        self.teacher = build_teacher(self.col, self.bb, n_pseudo, self.p["distil_depth"]) if n_pseudo else []

    # ---- module / optimiser -------------------------------------------------
    def init(self):
        a = self.a
        if a.kind == "full":
            for p_ in self.bb.w.values():
                p_.requires_grad_(True)
        self.module = {k: torch.nn.Parameter(v) for k, v in init_module(a.kind, a.role, self.bb, self.hp, a.seed).items()} \
            if a.kind != "zero-shot" else {}
        groups = []
        if self.module:
            groups.append({"params": list(self.module.values()), "lr": LR[a.kind] if a.kind != "full" else 1e-3})
        if a.kind == "full":
            groups.append({"params": list(self.bb.w.values()), "lr": LR["full"]})
        self.opt = torch.optim.AdamW(groups, weight_decay=0.0) if groups else None
        self.base_lrs = [g["lr"] for g in groups]
        self.step = 0
        self.log: list[dict] = []
        if self.p.get("init_from"):
            self.start_from(self.p["init_from"])

    def start_from(self, profile: str):
        """A fresh run of a staged profile starts from the finished module of the same run under `profile`."""
        src = RUNS / run_id(argparse.Namespace(**{**vars(self.a), "profile": profile})) / "ckpt.pt"
        if not (src.parent / "result.json").exists():
            raise SystemExit(f"{run_id(self.a)} continues {src.parent.name}: finish that run first")
        self._restore_weights(torch.load(src, weights_only=False))

    def trainable(self) -> int:
        n = sum(v.numel() for v in self.module.values())
        if self.a.kind == "full":
            n += self.bb.num_params()
        return n

    def save(self):
        state = {"step": self.step, "module": {k: v.detach() for k, v in self.module.items()},
                 "opt": self.opt.state_dict() if self.opt else None, "log": self.log}
        if self.a.kind == "full":
            state["backbone"] = {k: v.detach() for k, v in self.bb.w.items()}
        tmp = self.dir / "ckpt.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.dir / "ckpt.pt")

    def load(self) -> bool:
        ck = self.dir / "ckpt.pt"
        if not ck.exists():
            return False
        st = torch.load(ck, weights_only=False)
        self._restore_weights(st)
        if self.opt and st["opt"]:
            self.opt.load_state_dict(st["opt"])
        self.step, self.log = st["step"], st["log"]
        return True

    def _restore_weights(self, st: dict):
        """A checkpoint's module tensors, and its backbone for full fine-tuning, into this run's parameters."""
        with torch.no_grad():
            for k, v in st["module"].items():
                self.module[k].copy_(v)
            for k, v in st.get("backbone", {}).items():
                self.bb.w[k].copy_(v)

    def m(self) -> dict:
        return dict(self.module)

    # ---- batches ------------------------------------------------------------
    def _negs(self, rng, q, n):
        pos = self.col.qrels["train"][q]
        pool = [d for d in self.neg_cands[q][: self.p["hard_pool"]] if d not in pos]
        return rng.sample(pool, min(n, len(pool)))

    def loss_retriever(self, rng) -> torch.Tensor:
        qs = rng.sample(self.train_q, self.p["batch"])
        docs, labels = [], []
        for q in qs:
            labels.append(len(docs))
            docs.append(rng.choice(sorted(self.col.qrels["train"][q])))
        for q in qs:
            docs.extend(self._negs(rng, q, self.p["negs"]))
        c = self.contract
        bq = encode_texts(self.bb.backbone_id, c.prefixed("query", [self.col.queries[q] for q in qs]), self.p["qlen"])
        bd = encode_texts(self.bb.backbone_id, c.prefixed("document", [self.col.corpus[d] for d in docs]), self.p["dlen"])
        m = self.m()
        if self.p.get("scoring") == "maxsim":
            qm, dm = content_mask(bq["attention_mask"]), content_mask(bd["attention_mask"])
            hq, hd = F.normalize(encode(self.bb, m, **bq), dim=-1), F.normalize(encode(self.bb, m, **bd), dim=-1)
            logits = maxsim_matrix(hq, qm, hd, dm)  # raw sums, as ColBERT: no temperature to tune
        else:
            eq = pool(encode(self.bb, m, **bq), bq["attention_mask"], c.pooling, c.normalize)
            ed = pool(encode(self.bb, m, **bd), bd["attention_mask"], c.pooling, c.normalize)
            logits = SCALE * eq @ ed.T
        # mask in-batch "negatives" that are in fact positives of that query
        for i, q in enumerate(qs):
            for j, d in enumerate(docs):
                if j != labels[i] and d in self.col.qrels["train"][q]:
                    logits[i, j] = -1e4
        return F.cross_entropy(logits, torch.tensor(labels))

    def loss_reranker(self, rng) -> torch.Tensor:
        qs = rng.sample(self.train_q, max(1, self.p["batch"] // 2))
        pairs = []
        k = 1 + self.p["rr_negs"]
        for q in qs:
            pos = rng.choice(sorted(self.col.qrels["train"][q]))
            positives = self.col.qrels["train"][q]
            negs = self._negs(rng, q, self.p["rr_negs"] - self.p.get("random_negs", 0))
            while len(negs) < self.p["rr_negs"]:  # random negatives (and fill-ins when the hard pool is short)
                d = rng.choice(self.doc_ids)
                if d not in positives and d not in negs:
                    negs.append(d)
            pairs.extend((self.col.queries[q], self.col.corpus[d]) for d in [pos] + negs)
        groups = self.p.get("distil_groups", 0)
        teacher = []
        for g in range(groups):
            item = self.teacher[(self.step * groups + g) % len(self.teacher)]
            docs, t = teacher_group(item, k, self.p["distil_top"], rng)
            pairs.extend((item["query"], self.col.corpus[d]) for d in docs)
            teacher.append(t)
        b = encode_pairs(self.bb.backbone_id, pairs, self.p["plen"])
        s = rerank_scores(self.bb, self.m(), **b).view(len(qs) + groups, k)
        loss = F.cross_entropy(s[: len(qs)], torch.zeros(len(qs), dtype=torch.long))  # listwise: positive first
        if groups:
            loss = loss + self.p["distil_weight"] * kl_to_teacher(s[len(qs):], torch.stack(teacher), self.p["distil_temperature"])
        return loss

    # ---- evaluation ---------------------------------------------------------
    def dev_metric(self) -> float:
        if self.p.get("scoring") == "maxsim":
            r = late_rerank(self.bb, self.m(), self.col, "dev", self.cands, self.p["late_qlen"], self.p["late_dlen"],
                            self.p["dev_depth"], self.dev_q)
        elif self.a.role == "retriever":
            r = retrieval(self.bb, self.m(), self.col, "dev", self.dev_pool, self.p["eval_qlen"], self.p["dlen"], self.dev_q)
        else:
            r = rerank(self.bb, self.m(), self.col, "dev", self.cands, self.p["plen"], self.p["dev_depth"], self.dev_q)
        return r["ndcg@10"]

    def test_metrics(self) -> dict:
        test = sorted(self.col.qrels["test"])
        if self.p["test_queries"]:
            test = test[: self.p["test_queries"]]
        if self.p.get("scoring") == "maxsim":
            return late_rerank(self.bb, self.m(), self.col, "test", self.cands, self.p["late_qlen"], self.p["late_dlen"],
                               self.p["rr_depth"], test, label="test candidates")
        if self.a.role == "retriever":
            if self.p["test_corpus"] == "full":
                docs = list(self.col.corpus)
            else:
                pool = set()
                for q in test:
                    pool.update(self.cands[q][:20])
                    pool.update(self.col.qrels["test"][q])
                docs = sorted(pool)
            r = retrieval(self.bb, self.m(), self.col, "test", docs, self.p["eval_qlen"], self.p["eval_dlen"], test)
        else:
            qs = test[: self.p["rr_test_queries"]] if self.p["rr_test_queries"] else test
            r = rerank(self.bb, self.m(), self.col, "test", self.cands, self.p["plen"], self.p["rr_depth"], qs)
        return r

    # ---- main loop ----------------------------------------------------------
    def train(self):
        a, p = self.a, self.p
        logf = self.dir / "log.jsonl"
        if self.load():
            print(f"[{run_id(a)}] resumed at step {self.step}", flush=True)
        logf.write_text("".join(json.dumps(r) + "\n" for r in self.log))
        if a.kind == "zero-shot":
            return
        torch.manual_seed(a.seed)
        if self.step == 0 and not self.log:
            rec = {"step": 0, "dev_ndcg@10": self.dev_metric(), "time": time.time()}
            self.log.append(rec)
            with open(logf, "a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"[{run_id(a)}] step 0 dev {rec['dev_ndcg@10']:.4f}", flush=True)
        warm = max(1, p["steps"] // 10)
        while self.step < p["steps"]:
            rng = random.Random(a.seed * 1_000_003 + self.step)
            t0 = time.time()
            lr_scale = min(1.0, (self.step + 1) / warm) * (1.0 - self.step / p["steps"] * 0.9)
            for g, base in zip(self.opt.param_groups, self.base_lrs):
                g["lr"] = base * lr_scale
            loss = self.loss_retriever(rng) if a.role == "retriever" else self.loss_reranker(rng)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            self.step += 1
            rec = {"step": self.step, "loss": loss.item(), "sec": round(time.time() - t0, 3)}
            if self.step % p["eval_every"] == 0 or self.step == p["steps"]:
                rec["dev_ndcg@10"] = self.dev_metric()
                print(f"[{run_id(a)}] step {self.step} loss {loss.item():.4f} dev {rec['dev_ndcg@10']:.4f}", flush=True)
            self.log.append(rec)
            with open(logf, "a") as f:
                f.write(json.dumps(rec) + "\n")
            if self.step % p["ckpt_every"] == 0 or self.step == p["steps"]:
                self.save()

    def finish(self, command: str) -> dict:
        a, p = self.a, self.p
        t0 = time.time()
        test = self.test_metrics()
        per_query = test.pop("per_query", None)  # kept in the run's result.json only: paired tests between runs
        curve = [(r["step"], r["dev_ndcg@10"]) for r in self.log if "dev_ndcg@10" in r]
        rec = {
            "run": run_id(a), "collection": a.collection, "role": a.role, "kind": a.kind, "budget": a.budget,
            "hp": self.hp, "seed": a.seed, "profile": a.profile, "steps": p["steps"] if a.kind != "zero-shot" else 0,
            "trainable_params": self.trainable(), "fraction_of_backbone": round(self.trainable() / self.bb.num_params(), 6),
            "dev_curve": curve, "final_dev_ndcg@10": curve[-1][1] if curve else None,
            "steps_to_95pct_dev": steps_to_95(curve), "test": test, "split": self.col.split_note,
            "eval": {k: p[k] for k in ("eval_qlen", "eval_dlen", "plen", "rr_depth", "rr_test_queries", "test_corpus")},
            "train_sec": round(sum(r.get("sec", 0) for r in self.log), 1), "eval_sec": round(time.time() - t0, 1),
            "command": command, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if a.kind not in ("zero-shot", "full"):
            self.write_task(rec, command)
        self.plot()
        (self.dir / "result.json").write_text(json.dumps({**rec, "test_per_query": per_query}, indent=1))
        if not a.no_results:
            append_result(rec)
        return rec

    def write_task(self, rec: dict, command: str):
        a, p = self.a, self.p
        tensors = {k: v.detach().clone() for k, v in self.module.items()}
        ml = {"query": p["eval_qlen"], "document": p["eval_dlen"]} if a.role == "retriever" else {"pair": p["plen"]}
        late = p.get("scoring") == "maxsim"  # its metrics are MaxSim re-ranking's, not dense retrieval's
        metrics = {f"{'late_interaction_' if late else ''}test_{k}": v for k, v in rec["test"].items()}
        metrics["late_interaction_dev_ndcg@10" if late else "dev_ndcg@10"] = rec["final_dev_ndcg@10"]
        negatives = "hybrid (BM25 + dense, RRF)" if p.get("negatives") == "hybrid" else "BM25"
        loss = "; MaxSim contrastive loss" if late else ""
        man = build_manifest(
            task_id=f"{a.collection}-{a.kind}-{a.role}", version="1", role=a.role, kind=a.kind, hp=self.hp,
            backbone_id=a.backbone, tensors=tensors, max_length=ml, backbone_params=self.bb.num_params(),
            description=f"{a.kind} {a.role} for {a.collection} ({self.col.split_note})",
            training={"data": f"{a.collection} train qrels ({self.col.split_note}); {negatives} hard negatives{loss}",
                      "steps": p["steps"], "seed": a.seed, "profile": a.profile, "command": command,
                      "run": run_id(a)},
            metrics=metrics)
        save_task(self.dir / "task", man, tensors)

    def plot(self):
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except Exception:
            return
        steps = [r["step"] for r in self.log if "loss" in r]
        if not steps:
            return
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
        ax[0].plot(steps, [r["loss"] for r in self.log if "loss" in r], lw=0.8)
        ax[0].set_title("train loss"); ax[0].set_xlabel("step")
        dv = [(r["step"], r["dev_ndcg@10"]) for r in self.log if "dev_ndcg@10" in r]
        ax[1].plot([s for s, _ in dv], [v for _, v in dv], marker="o")
        ax[1].set_title("dev nDCG@10"); ax[1].set_xlabel("step")
        fig.suptitle(run_id(self.a)); fig.tight_layout()
        fig.savefig(self.dir / "curve.png", dpi=80); plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collection", default="scifact")
    ap.add_argument("--role", default="retriever", choices=["retriever", "reranker"])
    ap.add_argument("--kind", required=True, choices=KINDS + ["full", "zero-shot"])
    ap.add_argument("--budget", default="0.5", choices=sorted(PRESETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", default="study", choices=sorted(PROFILES))
    ap.add_argument("--steps", type=int, help="override the profile's step count")
    ap.add_argument("--backbone", default="all-MiniLM-L6-v2")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("ASIDE_THREADS", "2")))
    ap.add_argument("--no-results", action="store_true", help="do not append to the results store")
    ap.add_argument("--force", action="store_true", help="re-run the final evaluation even if finished")
    a = ap.parse_args(argv)
    if a.kind == "zero-shot" and a.role == "reranker":
        ap.error("zero-shot has no scoring head: train a reranker kind")
    torch.set_num_threads(a.threads)
    command = "python -m aside_training.train " + " ".join(shlex.quote(x) for x in (argv or sys.argv[1:]))
    r = Run(a)
    done = r.dir / "result.json"
    if done.exists() and not a.force:
        print(f"[{run_id(a)}] already finished: {done}")
        return
    r.init()
    r.train()
    rec = r.finish(command)
    print(json.dumps({k: rec[k] for k in ("run", "trainable_params", "final_dev_ndcg@10", "steps_to_95pct_dev", "test")}))


if __name__ == "__main__":
    main()
