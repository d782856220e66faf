#!/usr/bin/env bash
# The study queue, in priority order: each line is resumable and skipped once finished, so
# re-running this script continues where a cut-off run stopped. Log: training/runs/study.log
set -u
cd "$(dirname "$0")"
PY=.venv/bin/python
run() { echo "== $(date -u +%FT%TZ) $*"; $PY -m aside_training.train "$@" || echo "!! failed: $*"; }
S="--collection scifact --profile study"
for kind in zero-shot iaa-l lora adapter bitfit; do run $S --role retriever --kind "$kind" --seed 1; done
run $S --role reranker --kind iaa-l --seed 1
run $S --role retriever --kind full --seed 1
for kind in iaa-m iaa-s prefix mam; do run $S --role retriever --kind "$kind" --seed 1; done
for kind in iaa-l full lora; do run $S --role retriever --kind "$kind" --seed 2; done
run $S --role reranker --kind lora --seed 1
for kind in iaa-l lora; do run $S --role retriever --kind "$kind" --budget 5 --seed 1; done
N="--collection nfcorpus --profile study"
for kind in zero-shot iaa-l lora; do run $N --role retriever --kind "$kind" --seed 1; done
for kind in bitfit adapter prefix mam iaa-s iaa-m full; do run $S --role reranker --kind "$kind" --seed 1; done
# 4x longer training (profile "long", 600 steps): does the PET gap to full fine-tuning close?
L="--collection scifact --profile long"
for kind in iaa-l lora full; do run $L --role retriever --kind "$kind" --seed 1; done
